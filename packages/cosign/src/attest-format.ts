import { sha256Digest, type Descriptor, type ImageManifest } from "@frostyard/oci";
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
} from "./constants";
import { DSSE_ENVELOPE_MEDIA_TYPE } from "./dsse";
import { attachmentImage, cosignTag } from "./legacy-format";

/** The layer annotation `cosign attest` adds: the statement's predicate type, so verifiers can filter. */
export const PREDICATE_TYPE_ANNOTATION = "predicateType";

/** The tag cosign stores an image's attestations under: `sha256-<hex>.att`, next to the `.sig` tag. */
export function attestationTag(digest: string): string {
  return cosignTag(digest, "att");
}

/** One new attestation to store as a `.att` layer. */
export interface NewAttestationLayer {
  /** The DSSE envelope bytes: the layer blob. The signature lives inside it. */
  envelope: Uint8Array;
  predicateType: string;
  /** Keyless only: the Fulcio certificate PEM and its chain. */
  certificate?: string;
  chain?: string;
  /** The Rekor bundle JSON (`dev.sigstore.cosign/bundle`). */
  bundle?: string;
  rfc3161Timestamp?: string;
}

/**
 * The layer descriptor of an attestation as cosign's `static.NewAttestation` makes it: the envelope blob,
 * an empty `dev.cosignproject.cosign/signature`, `predicateType`, and keyless evidence when present.
 */
export function attestationLayerDescriptor(layer: NewAttestationLayer): Descriptor {
  const annotations: Record<string, string> = {
    [SIGNATURE_ANNOTATION]: "",
    [PREDICATE_TYPE_ANNOTATION]: layer.predicateType,
  };
  if (layer.certificate !== undefined) {
    annotations[CERTIFICATE_ANNOTATION] = layer.certificate;
    annotations[CHAIN_ANNOTATION] = layer.chain ?? "";
  }
  if (layer.bundle !== undefined) annotations[BUNDLE_ANNOTATION] = layer.bundle;
  if (layer.rfc3161Timestamp !== undefined)
    annotations[RFC3161_TIMESTAMP_ANNOTATION] = layer.rfc3161Timestamp;
  return {
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    size: layer.envelope.byteLength,
    digest: sha256Digest(layer.envelope),
    annotations,
  };
}

export interface AttestationImage {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  config: Buffer;
  /** The descriptor of the layer this attestation is stored as. */
  layer: Descriptor;
  /** False when a byte-identical attestation was already there; nothing needs pushing then. */
  added: boolean;
}

/**
 * The `.att` image after adding one attestation, as `cosign attest` (without `--replace`) writes it: the
 * attestations already there kept in order and the new layer appended, the config rebuilt for the layer
 * list (the same empty-image config as `.sig`). Envelopes carry a fresh ECDSA signature on every run, so
 * cosign's duplicate check only ever matches the very same bytes with the same annotations.
 */
export function buildAttestationManifest(
  existing: ImageManifest | undefined,
  newLayer: NewAttestationLayer,
): AttestationImage {
  const descriptor = attestationLayerDescriptor(newLayer);
  const layers = [...(existing?.layers ?? [])];
  const duplicate = layers.find(
    (layer) =>
      layer.digest === descriptor.digest &&
      layer.mediaType === descriptor.mediaType &&
      Object.entries(descriptor.annotations ?? {}).every(([k, v]) => layer.annotations?.[k] === v),
  );
  if (!duplicate) layers.push(descriptor);
  return {
    ...attachmentImage(existing, layers),
    layer: duplicate ?? descriptor,
    added: !duplicate,
  };
}
