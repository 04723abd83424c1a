import { digestAlgorithm, digestHex } from "./digest";
import { ManifestError } from "./errors";
import { isIndex, type Descriptor, type ImageIndex, type Manifest } from "./manifest";
import { OCI_IMAGE_INDEX } from "./mediatypes";

/** How referrers were found or recorded: the registry's referrers API, or the `sha256-<hex>` tag fallback. */
export type ReferrersSource = "referrers-api" | "tag-schema";

/**
 * The fallback tag for a subject digest (distribution-spec "referrers tag schema"): `<alg>-<hex>`,
 * cut to the 128 characters a tag may have.
 */
export function referrersTag(subjectDigest: string): string {
  return `${digestAlgorithm(subjectDigest)}-${digestHex(subjectDigest)}`.slice(0, 128);
}

/**
 * The descriptor a referrers list holds for a manifest: its artifactType (or, for an image manifest
 * without one, its config's media type) and its annotations, per the distribution spec.
 */
export function referrerDescriptor(
  manifest: Manifest,
  mediaType: string,
  digest: string,
  size: number,
): Descriptor {
  const descriptor: Descriptor = { mediaType, digest, size };
  const artifactType = manifest.artifactType ?? (isIndex(manifest) ? undefined : manifest.config.mediaType);
  if (artifactType) descriptor.artifactType = artifactType;
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    descriptor.annotations = { ...manifest.annotations };
  }
  return descriptor;
}

export function emptyReferrersIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: [] };
}

/**
 * Adds `descriptor` to a fallback index, keeping every existing entry; `changed` is false when an
 * entry with the same digest is already there (nothing to push).
 */
export function addReferrer(
  index: Manifest | undefined,
  descriptor: Descriptor,
  tag: string,
): { index: ImageIndex; changed: boolean } {
  if (index !== undefined && !isIndex(index)) {
    throw new ManifestError(
      `tag ${tag} holds an image manifest, not a referrers index; refusing to overwrite it`,
    );
  }
  const current = index ?? emptyReferrersIndex();
  if (current.manifests.some((m) => m.digest === descriptor.digest))
    return { index: current, changed: false };
  return { index: { ...current, manifests: [...current.manifests, descriptor] }, changed: true };
}

export function filterByArtifactType(
  descriptors: readonly Descriptor[],
  artifactType?: string,
): Descriptor[] {
  return artifactType === undefined
    ? [...descriptors]
    : descriptors.filter((d) => d.artifactType === artifactType);
}
