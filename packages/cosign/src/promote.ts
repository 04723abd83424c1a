import { InputError } from "@frostyard/kit";
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

/**
 * Points each tag at `digest` by pushing the same manifest bytes under the tag: the digest does not change,
 * so a host pulling the tag gets exactly what was verified. Returns the references moved, in order.
 */
export async function promoteTags(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
  tags: readonly string[],
): Promise<string[]> {
  if (tags.length === 0) return [];
  const fetched = await client.getManifest(withDigest({ ...repository }, digest));
  if (!fetched)
    throw new Error(`${formatReference(withDigest({ ...repository }, digest))} disappeared before promotion`);
  const moved: string[] = [];
  for (const tag of tags) {
    const ref = withTag(repository, tag);
    const pushed = await client.putManifest(ref, fetched.bytes, fetched.mediaType);
    if (pushed !== digest) throw new Error(`${formatReference(ref)} now points at ${pushed}, not ${digest}`);
    moved.push(formatReference(ref));
  }
  return moved;
}
