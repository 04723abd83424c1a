import { verify, type KeyObject } from "node:crypto";
import type { RepositoryRef } from "@frostyard/oci";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from "./constants";
import { matchesRepository } from "./identity";
import { decodeStrictBase64 } from "./pem";
import { parsePublicKey } from "./public-key";
import { parseSimpleSigningPayload, PayloadError, type SimpleSigningPayload } from "./payload";

export type VerifyFailureReason =
  | "missing-signature"
  | "malformed-signature"
  | "bad-signature"
  | "malformed-payload"
  | "digest-mismatch"
  | "identity-mismatch"
  | "not-a-signature";

export type VerifyOutcome =
  { ok: true; payload: SimpleSigningPayload } | { ok: false; reason: VerifyFailureReason; message: string };

/** What the host expects: the digest it is about to run and the repository it pulled from. */
export interface ExpectedImage {
  manifestDigest: string;
  /** Matched with containers/image's `matchRepository`: tags and digests are ignored. */
  repository: string | RepositoryRef;
}

export interface LegacySignatureCheck {
  payload: Uint8Array;
  signatureB64: string;
  publicKey: KeyObject | string;
  expected: ExpectedImage;
}

/** Whether `signatureB64` is a valid ECDSA SHA-256 signature of exactly `payload` bytes. */
export function isValidSignature(payload: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  try {
    return verify("sha256", payload, { key: publicKey, dsaEncoding: "der" }, signature);
  } catch {
    return false; // malformed DER: not a signature by this key
  }
}

type Failure = Extract<VerifyOutcome, { ok: false }>;

/** The checks a caller plugs into {@link verifySignedPayload}, as containers/image's acceptance rules. */
export interface PayloadRules {
  /** A failure when the signed digest is not the image's, else undefined. */
  digest(signedDigest: string): Failure | undefined;
  /** A failure when the signed identity is not acceptable, else undefined. */
  identity(signedReference: string): Failure | undefined;
}

/**
 * The verification core, in the order containers/image runs it (what bootc and rpm-ostree hosts use):
 * the signature over the exact payload bytes first, then the payload's form, then the digest rule, then
 * the identity rule. Nothing in the payload is looked at before the signature is known good.
 */
export function verifySignedPayload(
  payloadBytes: Uint8Array,
  signatureB64: string,
  publicKey: KeyObject,
  rules: PayloadRules,
): VerifyOutcome {
  const signature = decodeStrictBase64(signatureB64.trim());
  if (!signature || signature.length === 0) {
    return { ok: false, reason: "malformed-signature", message: "the signature is not base64" };
  }
  if (!isValidSignature(payloadBytes, signature, publicKey)) {
    return {
      ok: false,
      reason: "bad-signature",
      message: "cryptographic signature verification failed: the payload is not signed by this public key",
    };
  }
  let payload: SimpleSigningPayload;
  try {
    payload = parseSimpleSigningPayload(payloadBytes);
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    return { ok: false, reason: "malformed-payload", message: error.message };
  }
  const failure = rules.digest(payload.manifestDigest) ?? rules.identity(payload.dockerReference);
  return failure ?? { ok: true, payload };
}

/** The identity rule for an expected repository: containers/image's `matchRepository`. */
export function repositoryRule(repository: string | RepositoryRef): PayloadRules["identity"] {
  return (signedReference) => {
    if (matchesRepository(signedReference, repository)) return undefined;
    const wanted =
      typeof repository === "string" ? repository : `${repository.registry}/${repository.repository}`;
    return {
      ok: false,
      reason: "identity-mismatch",
      message: `signature for identity "${signedReference}" is not accepted for repository ${wanted}`,
    };
  };
}

/** The digest rule for a known manifest digest. */
export function digestRule(manifestDigest: string): PayloadRules["digest"] {
  return (signedDigest) =>
    signedDigest === manifestDigest
      ? undefined
      : {
          ok: false,
          reason: "digest-mismatch",
          message: `signature for digest ${signedDigest} does not match the image digest ${manifestDigest}`,
        };
}

/**
 * Verifies one legacy cosign signature of the image `expected` names. Never throws for a bad signature;
 * a public key that is not ECDSA P-256 throws CosignKeyError.
 */
export function verifyLegacySignature(check: LegacySignatureCheck): VerifyOutcome {
  const publicKey = parsePublicKey(check.publicKey);
  return verifySignedPayload(check.payload, check.signatureB64, publicKey, {
    digest: digestRule(check.expected.manifestDigest),
    identity: repositoryRule(check.expected.repository),
  });
}

/** One signature as stored next to an image: a `.sig` layer, or a containers/image `signature-N` blob. */
export interface SignatureCandidate {
  mediaType: string;
  payload: Uint8Array;
  annotations: Record<string, string>;
}

export interface SignatureSetResult {
  accepted: boolean;
  /** How many signatures were checked (simple-signing ones; other attachments are skipped). */
  checked: number;
  /** Attachments whose media type is not a simple-signing signature. */
  skipped: number;
  outcomes: VerifyOutcome[];
  /** A one-line summary in the words containers/image uses. */
  message: string;
}

/**
 * A host's decision for an image (containers/image `sigstoreSigned` with a key): accepted when any
 * simple-signing signature verifies; attachments of other media types are not signatures.
 */
export function verifySignatureSet(
  candidates: readonly SignatureCandidate[],
  publicKey: KeyObject | string,
  expected: ExpectedImage,
): SignatureSetResult {
  const key = parsePublicKey(publicKey);
  const outcomes: VerifyOutcome[] = [];
  let skipped = 0;
  for (const candidate of candidates) {
    if (candidate.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) {
      skipped++;
      continue;
    }
    const signatureB64 = candidate.annotations[SIGNATURE_ANNOTATION];
    if (signatureB64 === undefined) {
      outcomes.push({
        ok: false,
        reason: "missing-signature",
        message: `missing ${SIGNATURE_ANNOTATION} annotation`,
      });
      continue;
    }
    outcomes.push(
      verifyLegacySignature({ payload: candidate.payload, signatureB64, publicKey: key, expected }),
    );
  }
  const accepted = outcomes.some((o) => o.ok);
  const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.message]));
  let message: string;
  if (accepted)
    message = `${outcomes.filter((o) => o.ok).length} of ${outcomes.length} signature(s) accepted`;
  else if (outcomes.length === 0) {
    message =
      skipped === 0
        ? "a signature was required, but no signature exists"
        : `a signature was required, but no signature exists (${skipped} non-signature attachment(s))`;
  } else if (failures.length === 1) message = failures[0] as string;
  else message = `none of the signatures were accepted, reasons: ${failures.join("; ")}`;
  return { accepted, checked: outcomes.length, skipped, outcomes, message };
}
