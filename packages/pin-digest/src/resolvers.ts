/**
 * Looks up the digest a tag points at. The real one is @frostyard/oci's RegistryClient (HEAD requests,
 * token per registry scope); tests plug in tables.
 */
export interface ImageDigestResolver {
  /**
   * The digest of the manifest `reference` (`name:tag`) points at now — the index digest for a
   * multi-arch image, never one platform's — or undefined when the tag does not exist. Throws for
   * anything else (unreachable, 401/403) with a message that names the reference.
   */
  digest(reference: string): Promise<string | undefined>;
  /**
   * A canonical form, so that `debian:12` and `docker.io/library/debian:12` are looked up once.
   * Throws for a reference the resolver cannot parse.
   */
  canonical?(reference: string): string;
}

/** Where an action ref points: the commit, and the text of the `# …` comment to write beside it. */
export interface ActionResolution {
  sha: string;
  /** The most specific tag pointing at the same commit (`v4` → `v4.2.2`), or the tag/branch as given. */
  version: string;
}

export interface ActionRefResolver {
  /**
   * Resolves a tag (annotated tags peeled) or branch to its commit. With `refine`, a version tag like
   * `v4` is named by the most specific tag on the same commit. Throws with a message naming the ref.
   */
  resolve(owner: string, repo: string, ref: string, refine: boolean): Promise<ActionResolution>;
}
