import {
  formatReference,
  isIndex,
  parseReference,
  repositoryName,
  withDigest,
  withTag,
  type Descriptor,
  type ImageManifest,
  type ImageReference,
  type Platform,
  type RegistryClient,
  type RepositoryRef,
} from "@frostyard/oci";
import type { KeyObject } from "node:crypto";
import { InputError } from "@frostyard/kit";
import { buildBundleReferrerManifest } from "./bundle";
import { buildSignatureManifest, signatureTag, type NewSignatureLayer } from "./legacy-format";

/** An image as the user named it, and the digest it resolved to: signing is always by digest. */
export interface ResolvedImage {
  /** What the user gave (`ghcr.io/acme/os:1`). */
  input: string;
  reference: ImageReference;
  repository: RepositoryRef;
  /** The tag the user gave, if any; the summary shows it next to the digest. */
  tag?: string;
  digest: string;
  mediaType: string;
  size: number;
}

/** One manifest to sign: the image itself, or (recursive) one platform manifest of an index. */
export interface SignTarget {
  repository: RepositoryRef;
  descriptor: Descriptor;
  platform?: Platform;
}

/**
 * Parses one `image` entry; a malformed one is an InputError naming the input. Both a tag and a digest may
 * be given (`repo:tag@sha256:…`): the digest is what gets signed, as the runner would pull it.
 */
export function parseImageInput(value: string, input = "image"): ImageReference {
  try {
    return parseReference(value.trim());
  } catch (error) {
    throw new InputError(input, (error as Error).message);
  }
}

/**
 * Resolves an image reference to the manifest digest it names. A tag that does not exist (or a digest the
 * registry does not have) is an InputError: there is nothing to sign.
 */
export async function resolveImage(
  client: RegistryClient,
  value: string,
  input = "image",
): Promise<ResolvedImage> {
  const reference = parseImageInput(value, input);
  const head = await client.headManifest(reference);
  if (!head) {
    const what = reference.digest ? `digest ${reference.digest}` : `tag '${reference.tag ?? "latest"}'`;
    throw new InputError(
      input,
      `${formatReference(reference)}: the registry has no ${what} in ${repositoryName(reference)}`,
      "an image that was pushed before signing (check the tag, or pass the digest the push step output)",
    );
  }
  const repository = { registry: reference.registry, repository: reference.repository };
  return {
    input: value.trim(),
    reference,
    repository,
    ...(reference.tag !== undefined ? { tag: reference.tag } : {}),
    digest: head.digest,
    mediaType: head.mediaType,
    size: head.size,
  };
}

/**
 * What to sign for an image: the manifest itself and, when `recursive` and it is an index, each manifest it
 * lists (what `cosign sign --recursive` does), in the index's order.
 */
export async function signTargets(
  client: RegistryClient,
  image: ResolvedImage,
  recursive: boolean,
): Promise<SignTarget[]> {
  const root: SignTarget = {
    repository: image.repository,
    descriptor: { mediaType: image.mediaType, size: image.size, digest: image.digest },
  };
  if (!recursive) return [root];
  const fetched = await client.getManifest(withDigest({ ...image.repository }, image.digest));
  if (!fetched || !isIndex(fetched.manifest)) return [root];
  const children = fetched.manifest.manifests.map((descriptor) => ({
    repository: image.repository,
    descriptor: { mediaType: descriptor.mediaType, size: descriptor.size, digest: descriptor.digest },
    ...(descriptor.platform ? { platform: descriptor.platform } : {}),
  }));
  return [root, ...children];
}

/** Where a signature went: the manifest's reference (tag or digest) and digest. */
export interface PushedSignature {
  format: "legacy" | "bundle";
  /** `registry/repo:sha256-<hex>.sig` or `registry/repo@sha256:…` for a referrer. */
  reference: string;
  digest: string;
  /** Legacy: false when the same signature was already there (cosign's duplicate rule). */
  added: boolean;
  /** Bundle: how it can be found, through the registry's referrers API or the tag fallback. */
  referrers?: "referrers-api" | "tag-schema";
}

/**
 * Appends one signature to the `sha256-<hex>.sig` image of `digest` (keeping the signatures already there)
 * and pushes payload blob, config blob and manifest, in that order, so the manifest never names a missing blob.
 */
export async function pushLegacySignature(
  client: RegistryClient,
  repository: RepositoryRef,
  digest: string,
  layer: NewSignatureLayer,
  options: { publicKey?: KeyObject } = {},
): Promise<PushedSignature> {
  const ref = withTag(repository, signatureTag(digest));
  const existing = await client.getManifest(ref);
  if (existing && isIndex(existing.manifest)) {
    throw new Error(
      `${formatReference(ref)} is an image index, not a cosign signature image; refusing to overwrite it`,
    );
  }
  const image = buildSignatureManifest(existing?.manifest as ImageManifest | undefined, layer, options);
  if (!image.added && existing) {
    return { format: "legacy", reference: formatReference(ref), digest: existing.digest, added: false };
  }
  await client.uploadBlob(repository, image.manifest.layers.at(-1)!.digest, Buffer.from(layer.payload));
  await client.uploadBlob(repository, image.manifest.config.digest, image.config);
  const pushed = await client.putManifest(ref, image.manifestBytes, image.manifest.mediaType!);
  return { format: "legacy", reference: formatReference(ref), digest: pushed, added: true };
}

/**
 * Pushes a sigstore bundle as an OCI 1.1 referrer of `subject`: the `{}` config, the bundle layer, then the
 * manifest, which the registry indexes itself or which goes into the `sha256-<hex>` tag index otherwise.
 */
export async function pushBundleSignature(
  client: RegistryClient,
  repository: RepositoryRef,
  subject: Descriptor,
  bundle: Uint8Array,
  created: Date,
): Promise<PushedSignature> {
  const referrer = buildBundleReferrerManifest({
    subject,
    bundle,
    created: created.toISOString().replace(/\.\d{3}Z$/, "Z"),
  });
  await client.uploadBlob(repository, referrer.manifest.config.digest, referrer.config);
  await client.uploadBlob(repository, referrer.manifest.layers[0]!.digest, Buffer.from(bundle));
  const pushed = await client.pushReferrer(repository, referrer.manifestBytes, referrer.manifest.mediaType!);
  return {
    format: "bundle",
    reference: formatReference(withDigest({ ...repository }, pushed.digest)),
    digest: pushed.digest,
    added: true,
    referrers: pushed.source,
  };
}

/**
 * A pushed signature as a step output: `reference@digest`, where a referrer (already named by its digest)
 * is its reference alone, never `…@sha256:x@sha256:x`.
 */
export function signatureOutput(signature: Pick<PushedSignature, "reference" | "digest">): string {
  const { reference, digest } = signature;
  return reference.endsWith(`@${digest}`) ? reference : `${reference}@${digest}`;
}
