import { createHash, type KeyObject } from "node:crypto";
import {
  ANNOTATION_CREATED,
  OCI_EMPTY_JSON,
  OCI_IMAGE_MANIFEST,
  sha256Digest,
  type Descriptor,
  type ImageManifest,
} from "@frostyard/oci";
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
} from "./constants";
import { renderImageManifest } from "./legacy-format";
import { decodeStrictBase64 } from "./pem";
import { parsePublicKey, publicKeyDer } from "./public-key";
import { isValidSignature } from "./verify";

/** Annotations cosign v3 puts on a bundle referrer manifest. */
export const BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content";
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = "dev.sigstore.bundle.predicateType";

/** DSSE's pre-authentication encoding: what a DSSE signature actually signs. */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.byteLength} `),
    type,
    Buffer.from(` ${payload.byteLength} `),
    Buffer.from(payload),
  ]);
}

/** The key hint cosign writes into a key-based bundle: base64 sha256 of the public key's SPKI DER. */
export function bundleKeyHint(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKeyDer(publicKey)).digest("base64");
}

export type BundleFailureReason =
  "malformed-bundle" | "bad-signature" | "malformed-statement" | "digest-mismatch";

export type BundleOutcome =
  | {
      ok: true;
      predicateType: string;
      /** Whether the bundle's `publicKey.hint` names this key (absent hints count as false). */
      keyHintMatches: boolean;
      /** Transparency-log entries present in the bundle; they are not verified here. */
      tlogEntries: number;
    }
  | { ok: false; reason: BundleFailureReason; message: string };

function fail(reason: BundleFailureReason, message: string): BundleOutcome {
  return { ok: false, reason, message };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Verifies a key-based sigstore bundle (the `bundle` format's referrer layer): the DSSE signature over the
 * PAE with the public key, then the in-toto statement's subject against the image digest. Rekor and
 * timestamp evidence is counted, not verified (that is the keyless path's job).
 */
export function verifyBundleSignature(check: {
  bundle: Uint8Array;
  publicKey: KeyObject | string;
  expected: { manifestDigest: string };
}): BundleOutcome {
  const publicKey = parsePublicKey(check.publicKey);
  let bundle: unknown;
  try {
    bundle = JSON.parse(Buffer.from(check.bundle).toString("utf8"));
  } catch (error) {
    return fail("malformed-bundle", `the bundle is not JSON (${(error as Error).message})`);
  }
  if (!isRecord(bundle)) return fail("malformed-bundle", "the bundle is not a JSON object");
  if (
    typeof bundle.mediaType !== "string" ||
    !bundle.mediaType.startsWith("application/vnd.dev.sigstore.bundle")
  ) {
    return fail(
      "malformed-bundle",
      `bundle mediaType is ${JSON.stringify(bundle.mediaType)}; expected ${SIGSTORE_BUNDLE_V03_MEDIA_TYPE}`,
    );
  }
  const envelope = bundle.dsseEnvelope;
  if (!isRecord(envelope))
    return fail("malformed-bundle", "the bundle has no dsseEnvelope (message signatures are not supported)");
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return fail(
      "malformed-bundle",
      `dsseEnvelope.payloadType is ${JSON.stringify(envelope.payloadType)}; expected ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  const payload = typeof envelope.payload === "string" ? decodeStrictBase64(envelope.payload) : undefined;
  if (!payload) return fail("malformed-bundle", "dsseEnvelope.payload is not base64");
  const signatures = Array.isArray(envelope.signatures) ? envelope.signatures : [];
  if (signatures.length === 0) return fail("malformed-bundle", "dsseEnvelope has no signatures");

  const pae = dssePae(IN_TOTO_PAYLOAD_TYPE, payload);
  const signed = signatures.some((entry: unknown) => {
    const sig = isRecord(entry) && typeof entry.sig === "string" ? decodeStrictBase64(entry.sig) : undefined;
    return sig !== undefined && isValidSignature(pae, sig, publicKey);
  });
  if (!signed) {
    return fail("bad-signature", "no DSSE signature in the bundle verifies with this public key");
  }

  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    return fail("malformed-statement", `the in-toto statement is not JSON (${(error as Error).message})`);
  }
  if (!isRecord(statement) || statement._type !== IN_TOTO_STATEMENT_V1) {
    return fail("malformed-statement", `the statement _type is not ${IN_TOTO_STATEMENT_V1}`);
  }
  if (typeof statement.predicateType !== "string") {
    return fail("malformed-statement", "the statement has no predicateType");
  }
  const [algorithm, hex] = check.expected.manifestDigest.split(":");
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const matches = subjects.some(
    (subject: unknown) =>
      isRecord(subject) &&
      isRecord(subject.digest) &&
      algorithm !== undefined &&
      subject.digest[algorithm] === hex,
  );
  if (!matches) {
    return fail("digest-mismatch", `no statement subject has digest ${check.expected.manifestDigest}`);
  }
  const material = isRecord(bundle.verificationMaterial) ? bundle.verificationMaterial : {};
  const hint = isRecord(material.publicKey) ? material.publicKey.hint : undefined;
  return {
    ok: true,
    predicateType: statement.predicateType,
    keyHintMatches: hint === bundleKeyHint(publicKey),
    tlogEntries: Array.isArray(material.tlogEntries) ? material.tlogEntries.length : 0,
  };
}

export interface BundleReferrer {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  /** The `{}` config blob (OCI empty descriptor) to push with it. */
  config: Buffer;
}

/**
 * The OCI 1.1 referrer manifest cosign v3 pushes for a bundle: artifactType and config artifactType the
 * bundle media type, an empty `{}` config, the bundle as the only layer, `subject` the signed manifest.
 */
export function buildBundleReferrerManifest(request: {
  subject: Descriptor;
  bundle: Uint8Array;
  /** RFC 3339, seconds precision, UTC: `org.opencontainers.image.created`. */
  created: string;
  predicateType?: string;
}): BundleReferrer {
  const config = Buffer.from("{}");
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST,
    config: {
      mediaType: OCI_EMPTY_JSON,
      size: config.byteLength,
      digest: sha256Digest(config),
      artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    },
    layers: [
      {
        mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
        size: request.bundle.byteLength,
        digest: sha256Digest(request.bundle),
      },
    ],
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: "dsse-envelope",
      [BUNDLE_PREDICATE_TYPE_ANNOTATION]: request.predicateType ?? COSIGN_SIGN_PREDICATE_TYPE,
      [ANNOTATION_CREATED]: request.created,
    },
    subject: {
      mediaType: request.subject.mediaType,
      size: request.subject.size,
      digest: request.subject.digest,
    },
    artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  };
  return { manifest, manifestBytes: renderImageManifest(manifest), config };
}
