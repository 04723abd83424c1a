import { InputError, type Logger } from "@frostyard/kit";
import {
  formatReference,
  withDigest,
  withTag,
  type RegistryClient,
  type RepositoryRef,
} from "@frostyard/oci";

const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Checks `promote-tags` entries: plain tags only (`latest`, `stable`), never a reference, and never a
 * cosign tag (`sha256-….sig`, `.att`, `.sbom`), which would overwrite signatures.
 */
export function checkPromoteTags(tags: readonly string[], input = "promote-tags"): string[] {
  for (const tag of tags) {
    if (!TAG.test(tag)) {
      throw new InputError(
        input,
        `'${tag}' is not a tag`,
        "tags of 1 to 128 letters, digits, '_', '.' or '-' (not starting with '.' or '-'), without the image name",
      );
    }
    if (/^sha256-[0-9a-f]{64}/.test(tag)) {
      throw new InputError(
        input,
        `'${tag}' is a cosign or referrers tag`,
        "a floating tag such as latest or stable",
      );
    }
  }
  return [...new Set(tags)];
}

/** One promoted tag, as read back from the registry after the PUT. */
export interface TagPromotion {
  /** `registry/repo:tag`. */
  reference: string;
  /** What the tag names when read back; undefined when it no longer exists. */
  digest: string | undefined;
  /** True when the tag still names the promoted digest. */
  promoted: boolean;
}

export interface PromoteOptions {
  /** Warned about each tag that another writer moved between our PUT and the read-back. */
  logger?: Logger;
  /** Runs between the PUT of a tag and its read-back (tests move the tag from outside here). */
  afterPut?: (reference: string) => Promise<void>;
}

/**
 * Points each tag at `digest` by pushing the same manifest bytes under the tag (the digest does not
 * change, so a host pulling the tag gets exactly what was verified), then reads the tag back. Two runs
 * promoting the same tag race and the last PUT wins: a run whose read-back finds another digest lost,
 * and says so instead of claiming the tag.
 */
export async function promoteTagsReadBack(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
  tags: readonly string[],
  options: PromoteOptions = {},
): Promise<TagPromotion[]> {
  if (tags.length === 0) return [];
  const fetched = await client.getManifest(withDigest({ ...repository }, digest));
  if (!fetched)
    throw new Error(`${formatReference(withDigest({ ...repository }, digest))} disappeared before promotion`);
  const results: TagPromotion[] = [];
  for (const tag of tags) {
    const ref = withTag(repository, tag);
    const reference = formatReference(ref);
    const pushed = await client.putManifest(ref, fetched.bytes, fetched.mediaType);
    if (pushed !== digest) throw new Error(`${reference} now points at ${pushed}, not ${digest}`);
    await options.afterPut?.(reference);
    const now = (await client.headManifest(ref))?.digest;
    results.push({ reference, digest: now, promoted: now === digest });
    if (now !== digest) {
      options.logger?.warning(
        `${reference} was promoted to ${digest}, but another writer moved it: it now names ${now ?? "nothing (deleted)"}`,
      );
    }
  }
  return results;
}

/** {@link promoteTagsReadBack}, as the references that still name `digest` after the read-back, in order. */
export async function promoteTags(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
  tags: readonly string[],
  options: PromoteOptions = {},
): Promise<string[]> {
  const results = await promoteTagsReadBack(client, repository, digest, tags, options);
  return results.filter((r) => r.promoted).map((r) => r.reference);
}
