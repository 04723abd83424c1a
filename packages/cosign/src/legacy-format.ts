import type { KeyObject } from "node:crypto";
import {
  digestProblem,
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_MANIFEST,
  sha256Digest,
  type Descriptor,
  type ImageManifest,
  type Platform,
} from "@frostyard/oci";
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "./constants";
import { goJson } from "./go-json";
import { decodeStrictBase64 } from "./pem";
import { isValidSignature } from "./verify";

/**
 * The tag cosign stores an image's legacy signatures under: `sha256-<hex>.sig`. Only sha256 digests
 * make a valid tag (a sha512 one would exceed the 128-character tag limit).
 */
export function signatureTag(digest: string): string {
  return cosignTag(digest, "sig");
}

/** `sha256-<hex>.<suffix>`: the tag scheme cosign uses for everything it attaches to an image digest. */
export function cosignTag(digest: string, suffix: "sig" | "att"): string {
  const what = suffix === "sig" ? "signature" : "attestation";
  const problem = digestProblem(digest);
  if (problem) throw new TypeError(`${what} tag: ${problem}`);
  if (!digest.startsWith("sha256:")) {
    throw new TypeError(
      `${what} tag: digest "${digest}" is not sha256; cosign's .${suffix} tags need sha256:<64 hex>`,
    );
  }
  return `sha256-${digest.slice("sha256:".length)}.${suffix}`;
}

/** One new signature to store as a `.sig` layer. */
export interface NewSignatureLayer {
  /** The simple-signing payload bytes: the layer blob. */
  payload: Uint8Array;
  signatureB64: string;
  /** Keyless only: the Fulcio certificate PEM; cosign then always writes a chain annotation too. */
  certificate?: string;
  chain?: string;
  /** The Rekor bundle JSON. */
  bundle?: string;
  rfc3161Timestamp?: string;
}

/** The layer descriptor cosign writes for a signature: the payload blob with the signature annotations. */
export function signatureLayerDescriptor(layer: NewSignatureLayer): Descriptor {
  const annotations: Record<string, string> = { [SIGNATURE_ANNOTATION]: layer.signatureB64 };
  if (layer.certificate !== undefined) {
    annotations[CERTIFICATE_ANNOTATION] = layer.certificate;
    annotations[CHAIN_ANNOTATION] = layer.chain ?? "";
  }
  if (layer.bundle !== undefined) annotations[BUNDLE_ANNOTATION] = layer.bundle;
  if (layer.rfc3161Timestamp !== undefined)
    annotations[RFC3161_TIMESTAMP_ANNOTATION] = layer.rfc3161Timestamp;
  return {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: layer.payload.byteLength,
    digest: sha256Digest(layer.payload),
    annotations,
  };
}

/**
 * The config blob of a signature image as cosign v2/v3 writes it (go-containerregistry's empty image
 * with each signature appended): zero times, one history entry and one diff_id per layer. Signature
 * layers are stored uncompressed, so each diff_id is the layer digest.
 */
export function signatureConfig(layers: readonly Descriptor[]): Buffer {
  const zero = "0001-01-01T00:00:00Z";
  const history = layers.map(() => `{"created":"${zero}"}`).join(",");
  const diffIds = layers.map((layer) => goJson(layer.digest)).join(",");
  return Buffer.from(
    `{"architecture":"","created":"${zero}","history":[${history}],"os":"",` +
      `"rootfs":{"type":"layers","diff_ids":[${diffIds}]},"config":{}}`,
  );
}

function renderPlatform(platform: Platform): string {
  const fields: string[] = [`"architecture":${goJson(platform.architecture)}`, `"os":${goJson(platform.os)}`];
  if (platform["os.version"]) fields.push(`"os.version":${goJson(platform["os.version"])}`);
  if (platform["os.features"]?.length) fields.push(`"os.features":${goJson(platform["os.features"])}`);
  if (platform.variant) fields.push(`"variant":${goJson(platform.variant)}`);
  return `{${fields.join(",")}}`;
}

/** A descriptor in go-containerregistry's field order (mediaType, size, digest, data, urls, annotations, platform, artifactType). */
export function renderDescriptor(descriptor: Descriptor): string {
  const fields = [
    `"mediaType":${goJson(descriptor.mediaType)}`,
    `"size":${goJson(descriptor.size)}`,
    `"digest":${goJson(descriptor.digest)}`,
  ];
  if (descriptor.data) fields.push(`"data":${goJson(descriptor.data)}`);
  if (descriptor.urls?.length) fields.push(`"urls":${goJson(descriptor.urls)}`);
  if (descriptor.annotations && Object.keys(descriptor.annotations).length > 0) {
    fields.push(`"annotations":${goJson(descriptor.annotations)}`);
  }
  if (descriptor.platform) fields.push(`"platform":${renderPlatform(descriptor.platform)}`);
  if (descriptor.artifactType) fields.push(`"artifactType":${goJson(descriptor.artifactType)}`);
  return `{${fields.join(",")}}`;
}

/** An image manifest in go-containerregistry's field order, the bytes cosign pushes. */
export function renderImageManifest(manifest: ImageManifest): Buffer {
  const fields = [`"schemaVersion":${manifest.schemaVersion}`];
  if (manifest.mediaType) fields.push(`"mediaType":${goJson(manifest.mediaType)}`);
  fields.push(`"config":${renderDescriptor(manifest.config)}`);
  fields.push(`"layers":[${manifest.layers.map(renderDescriptor).join(",")}]`);
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    fields.push(`"annotations":${goJson(manifest.annotations)}`);
  }
  if (manifest.subject) fields.push(`"subject":${renderDescriptor(manifest.subject)}`);
  if (manifest.artifactType) fields.push(`"artifactType":${goJson(manifest.artifactType)}`);
  return Buffer.from(`{${fields.join(",")}}`);
}

/**
 * Whether `existing` already holds the signature being added, by cosign's duplicate rule: same payload
 * (digest and media type), every new non-signature annotation present with the same value, and a
 * signature that verifies over the payload with the signer's key. ECDSA signatures differ on every run,
 * so without `publicKey` only a byte-identical signature counts.
 */
export function isDuplicateSignature(
  existing: Descriptor,
  candidate: Descriptor,
  payload: Uint8Array,
  publicKey?: KeyObject,
): boolean {
  if (existing.mediaType !== candidate.mediaType || existing.digest !== candidate.digest) return false;
  const have = existing.annotations ?? {};
  for (const [key, value] of Object.entries(candidate.annotations ?? {})) {
    if (key === SIGNATURE_ANNOTATION) continue;
    if (have[key] !== value) return false;
  }
  const existingSignature = have[SIGNATURE_ANNOTATION];
  if (!existingSignature) return false;
  if (existingSignature === candidate.annotations?.[SIGNATURE_ANNOTATION]) return true;
  if (!publicKey) return false;
  const bytes = decodeStrictBase64(existingSignature);
  return bytes !== undefined && isValidSignature(payload, bytes, publicKey);
}

export interface SignatureImage {
  manifest: ImageManifest;
  /** The exact bytes to push under the `.sig` tag. */
  manifestBytes: Buffer;
  /** The config blob to push before the manifest. */
  config: Buffer;
  /** False when the signature was already there (cosign's duplicate rule); nothing needs pushing then. */
  added: boolean;
}

/**
 * The `.sig` image after adding one signature, as cosign v2 writes it: existing layers kept in order,
 * the new layer appended unless it duplicates one, the config rebuilt for the layer list. The manifest
 * and config media types of an existing image are kept (cosign honours COSIGN_DOCKER_MEDIA_TYPES).
 */
export function buildSignatureManifest(
  existing: ImageManifest | undefined,
  newLayer: NewSignatureLayer,
  options: { publicKey?: KeyObject } = {},
): SignatureImage {
  const descriptor = signatureLayerDescriptor(newLayer);
  const layers = [...(existing?.layers ?? [])];
  const duplicate = layers.some((layer) =>
    isDuplicateSignature(layer, descriptor, newLayer.payload, options.publicKey),
  );
  if (!duplicate) layers.push(descriptor);
  return { ...attachmentImage(existing, layers), added: !duplicate };
}

/**
 * The image cosign stores under a `.sig` or `.att` tag with these layers: its config lists them (cosign's
 * empty-image config), and what an existing manifest carried (media types, annotations, subject) is kept.
 */
export function attachmentImage(
  existing: ImageManifest | undefined,
  layers: Descriptor[],
): { manifest: ImageManifest; manifestBytes: Buffer; config: Buffer } {
  const config = signatureConfig(layers);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: existing ? existing.mediaType : OCI_IMAGE_MANIFEST,
    config: {
      mediaType: existing?.config.mediaType ?? OCI_IMAGE_CONFIG,
      size: config.byteLength,
      digest: sha256Digest(config),
    },
    layers,
  };
  if (existing?.annotations) manifest.annotations = existing.annotations;
  if (existing?.subject) manifest.subject = existing.subject;
  return { manifest, manifestBytes: renderImageManifest(manifest), config };
}

/** One layer of a `.sig` image, with the annotations a verifier needs named. */
export interface SignatureLayer {
  descriptor: Descriptor;
  mediaType: string;
  /** Digest of the payload blob, to fetch it from the registry. */
  payloadDigest: string;
  annotations: Record<string, string>;
  signatureB64?: string;
  certificate?: string;
  chain?: string;
  bundle?: string;
}

/** The layers of a `.sig` manifest (all of them; verifiers skip media types that are not simple signing). */
export function readSignatureLayers(manifest: ImageManifest): SignatureLayer[] {
  if (!Array.isArray(manifest.layers)) {
    throw new TypeError(
      'signature manifest has no "layers" array; expected an image manifest under the .sig tag',
    );
  }
  return manifest.layers.map((descriptor) => {
    const annotations = descriptor.annotations ?? {};
    const layer: SignatureLayer = {
      descriptor,
      mediaType: descriptor.mediaType,
      payloadDigest: descriptor.digest,
      annotations,
    };
    if (annotations[SIGNATURE_ANNOTATION] !== undefined)
      layer.signatureB64 = annotations[SIGNATURE_ANNOTATION];
    if (annotations[CERTIFICATE_ANNOTATION] !== undefined)
      layer.certificate = annotations[CERTIFICATE_ANNOTATION];
    if (annotations[CHAIN_ANNOTATION] !== undefined) layer.chain = annotations[CHAIN_ANNOTATION];
    if (annotations[BUNDLE_ANNOTATION] !== undefined) layer.bundle = annotations[BUNDLE_ANNOTATION];
    return layer;
  });
}
