import { sign, type KeyObject } from "node:crypto";
import { dssePae } from "./bundle";
import { goJsonString } from "./go-json";
import { decodeStrictBase64 } from "./pem";
import { assertP256 } from "./public-key";
import { isValidSignature } from "./verify";

/** The media type of an attestation layer in a `.att` image: the layer blob is a DSSE envelope. */
export const DSSE_ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json";

/** Signs DSSE's pre-authentication encoding; returns the raw signature (ASN.1 DER for ECDSA). */
export type PaeSigner = (pae: Buffer) => Promise<Buffer>;

/** A PaeSigner over a cosign P-256 key: ECDSA over SHA-256, as sigstore's signer does. */
export function keyPaeSigner(privateKey: KeyObject): PaeSigner {
  assertP256(privateKey, "key");
  return async (pae) => sign("sha256", pae, { key: privateKey, dsaEncoding: "der" });
}

/**
 * The envelope bytes as cosign stores them (sigstore's `dsse.WrapSigner` marshals go-securesystemslib's
 * Envelope): `payloadType`, `payload`, then one signature with an empty `keyid`.
 */
export function renderDsseEnvelope(payloadType: string, payload: Uint8Array, signature: Uint8Array): Buffer {
  return Buffer.from(
    `{"payloadType":${goJsonString(payloadType)},"payload":"${Buffer.from(payload).toString("base64")}",` +
      `"signatures":[{"keyid":"","sig":"${Buffer.from(signature).toString("base64")}"}]}`,
  );
}

/** Wraps `payload` in a DSSE envelope signed over its PAE. */
export async function signDsseEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signer: PaeSigner,
): Promise<Buffer> {
  return renderDsseEnvelope(payloadType, payload, await signer(dssePae(payloadType, payload)));
}

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: { keyid?: string; sig: Buffer }[];
}

/** A DSSE envelope that cannot be read. */
export class DsseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DsseError";
  }
}

/** Parses envelope bytes; base64 fields must be strict standard base64, as Go's StdEncoding decodes first. */
export function parseDsseEnvelope(bytes: Uint8Array): DsseEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new DsseError(`the DSSE envelope is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DsseError("the DSSE envelope is not a JSON object");
  }
  const envelope = value as Record<string, unknown>;
  if (typeof envelope.payloadType !== "string") throw new DsseError("the DSSE envelope has no payloadType");
  const payload = typeof envelope.payload === "string" ? decodeStrictBase64(envelope.payload) : undefined;
  if (!payload) throw new DsseError("the DSSE envelope's payload is not base64");
  const signatures = (Array.isArray(envelope.signatures) ? envelope.signatures : []).flatMap((s: unknown) => {
    if (typeof s !== "object" || s === null) return [];
    const { keyid, sig } = s as Record<string, unknown>;
    const bytes = typeof sig === "string" ? decodeStrictBase64(sig) : undefined;
    return bytes ? [{ ...(typeof keyid === "string" ? { keyid } : {}), sig: bytes }] : [];
  });
  if (signatures.length === 0) throw new DsseError("the DSSE envelope has no base64 signature");
  return { payloadType: envelope.payloadType, payload, signatures };
}

/** Whether any signature of the envelope verifies over its PAE with `publicKey`. */
export function dsseSignedBy(envelope: DsseEnvelope, publicKey: KeyObject): boolean {
  const pae = dssePae(envelope.payloadType, envelope.payload);
  return envelope.signatures.some((s) => isValidSignature(pae, s.sig, publicKey));
}
