import { digestAlgorithm, digestLike, type RepositoryRef } from "@frostyard/oci";
import type { KeyObject } from "node:crypto";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from "./constants";
import { goJson } from "./go-json";
import { decodeStrictBase64 } from "./pem";
import { parsePublicKey } from "./public-key";
import { repositoryRule, verifySignedPayload, type VerifyOutcome } from "./verify";

/**
 * containers/image's on-disk form of a sigstore signature (`signature-N` in a `dir:` image, the lookaside
 * store, c/storage): a 0x00 byte, the format name, a newline, then JSON.
 */
export const SIGSTORE_BLOB_PREFIX = "\0sigstore-json\n";

export interface ContainersImageSignature {
  mimeType: string;
  payload: Buffer;
  annotations: Record<string, string>;
}

/** A blob that is not a containers/image sigstore signature. */
export class SignatureBlobError extends Error {
  constructor(message: string) {
    super(`sigstore signature blob: ${message}`);
    this.name = "SignatureBlobError";
  }
}

/** Parses `\0sigstore-json\n{"mimeType","payload","annotations"}`. Throws SignatureBlobError. */
export function parseContainersImageSignature(bytes: Uint8Array): ContainersImageSignature {
  const buffer = Buffer.from(bytes);
  const prefix = Buffer.from(SIGSTORE_BLOB_PREFIX, "latin1");
  if (!buffer.subarray(0, prefix.length).equals(prefix)) {
    const what =
      buffer[0] === 0
        ? `format "${buffer.subarray(1, buffer.indexOf(10)).toString("latin1")}"`
        : "a GPG simple-signing signature or unknown data";
    throw new SignatureBlobError(`starts with ${what}; expected "\\0sigstore-json\\n"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(buffer.subarray(prefix.length).toString("utf8"));
  } catch (error) {
    throw new SignatureBlobError(`the JSON after the prefix does not parse (${(error as Error).message})`);
  }
  const record = json as Record<string, unknown>;
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new SignatureBlobError("the JSON is not an object");
  if (typeof record.mimeType !== "string") throw new SignatureBlobError('"mimeType" is not a string');
  const payload = typeof record.payload === "string" ? decodeStrictBase64(record.payload) : undefined;
  if (!payload) throw new SignatureBlobError('"payload" is not base64');
  const annotations = record.annotations;
  if (
    typeof annotations !== "object" ||
    annotations === null ||
    Array.isArray(annotations) ||
    !Object.values(annotations).every((v) => typeof v === "string")
  ) {
    throw new SignatureBlobError('"annotations" is not an object of strings');
  }
  return { mimeType: record.mimeType, payload, annotations: annotations as Record<string, string> };
}

/** The blob bytes containers/image writes for a signature (Go's json.Marshal of its struct). */
export function containersImageSignatureBlob(signature: ContainersImageSignature): Buffer {
  const json =
    `{"mimeType":${goJson(signature.mimeType)},"payload":${goJson(signature.payload.toString("base64"))},` +
    `"annotations":${goJson(signature.annotations)}}`;
  return Buffer.concat([Buffer.from(SIGSTORE_BLOB_PREFIX, "latin1"), Buffer.from(json, "utf8")]);
}

/**
 * The digest of manifest bytes computed with `signedDigest`'s algorithm, as containers/image's
 * MatchesDigest does. A Docker schema 1 manifest's digest depends on stripping its JWS signatures; that
 * is not supported, so it is reported as an error rather than hashed wrongly.
 */
export function manifestDigestLike(manifest: Uint8Array, signedDigest: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(manifest).toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if ((parsed as { schemaVersion?: unknown } | undefined)?.schemaVersion === 1) {
    throw new Error(
      "the image manifest is Docker schema 1, whose digest cannot be computed here (its JWS signatures would have to be stripped)",
    );
  }
  return digestLike(signedDigest, manifest);
}

export interface ContainersImageCheck {
  /** The `signature-N` bytes. */
  blob: Uint8Array;
  /** The image's `manifest.json` bytes. */
  manifest: Uint8Array;
  publicKey: KeyObject | string;
  /** The repository the image is pulled as, matched with `matchRepository`. */
  repository: string | RepositoryRef;
}

/**
 * Verifies a containers/image signature blob against the image manifest the way a host's policy
 * `sigstoreSigned` + `matchRepository` does. Non-signature attachments give `not-a-signature`.
 */
export function verifyContainersImageSignature(check: ContainersImageCheck): VerifyOutcome {
  const publicKey = parsePublicKey(check.publicKey);
  let signature: ContainersImageSignature;
  try {
    signature = parseContainersImageSignature(check.blob);
  } catch (error) {
    if (!(error instanceof SignatureBlobError)) throw error;
    return { ok: false, reason: "malformed-signature", message: error.message };
  }
  if (signature.mimeType !== SIMPLE_SIGNING_MEDIA_TYPE) {
    return {
      ok: false,
      reason: "not-a-signature",
      message: `attachment of type ${signature.mimeType} is not a signature; expected ${SIMPLE_SIGNING_MEDIA_TYPE}`,
    };
  }
  const signatureB64 = signature.annotations[SIGNATURE_ANNOTATION];
  if (signatureB64 === undefined) {
    return { ok: false, reason: "missing-signature", message: `missing ${SIGNATURE_ANNOTATION} annotation` };
  }
  return verifySignedPayload(signature.payload, signatureB64, publicKey, {
    digest: (signedDigest) => {
      let actual: string;
      try {
        actual = manifestDigestLike(check.manifest, signedDigest);
      } catch (error) {
        return { ok: false, reason: "manifest-digest-error", message: (error as Error).message };
      }
      return actual === signedDigest
        ? undefined
        : {
            ok: false,
            reason: "digest-mismatch",
            message: `signature for digest ${signedDigest} does not match the manifest (${digestAlgorithm(signedDigest)} ${actual})`,
          };
    },
    identity: repositoryRule(check.repository),
  });
}
