import { sign, type KeyObject } from "node:crypto";
import type { RepositoryRef } from "@frostyard/oci";
import { cosignDockerReference } from "./identity";
import type { NewSignatureLayer } from "./legacy-format";
import { simpleSigningPayload } from "./payload";
import { assertP256 } from "./public-key";

/** ECDSA over SHA-256 of the payload, ASN.1 DER, base64: the value of `dev.cosignproject.cosign/signature`. */
export function signPayload(payload: Uint8Array, privateKey: KeyObject): string {
  assertP256(privateKey, "key");
  return sign("sha256", payload, { key: privateKey, dsaEncoding: "der" }).toString("base64");
}

/**
 * What a `.sig` layer carries besides its payload, made for one payload: a key's signature, or (keyless)
 * the signature with its Fulcio certificate, chain and Rekor entry.
 */
export type LegacyLayerSigner = (payload: Buffer) => Promise<Omit<NewSignatureLayer, "payload">>;

/** The layer signer of a cosign key: `cosign sign --key`. */
export function keyLayerSigner(privateKey: KeyObject): LegacyLayerSigner {
  return async (payload) => ({ signatureB64: signPayload(payload, privateKey) });
}

export interface LegacySignatureRequest {
  /** The image repository (`ghcr.io/acme/os`, any tag or digest is dropped), as cosign signs it. */
  repository: string | RepositoryRef;
  /** The manifest digest being signed; cosign signs by digest, never by tag. */
  manifestDigest: string;
  /** `-a key=value` annotations; none gives `"optional":null`. */
  annotations?: Record<string, string>;
  /** A P-256 private key, or any signer's layer signer (keyless: certificate and Rekor entry too). */
  signer: KeyObject | LegacyLayerSigner;
}

export interface LegacySignature extends NewSignatureLayer {
  /** The simple-signing payload: the `.sig` layer's blob. */
  payload: Buffer;
  dockerReference: string;
}

/**
 * A cosign signature of one manifest digest in the legacy `.sig` form, as `cosign sign` makes it: the
 * simple-signing payload and what the signer adds to its layer. The sign step makes every legacy
 * signature here.
 */
export async function createLegacySignature(request: LegacySignatureRequest): Promise<LegacySignature> {
  const dockerReference = cosignDockerReference(request.repository);
  const annotations =
    request.annotations && Object.keys(request.annotations).length > 0 ? request.annotations : null;
  const payload = simpleSigningPayload({
    dockerReference,
    manifestDigest: request.manifestDigest,
    annotations,
  });
  const signer = typeof request.signer === "function" ? request.signer : keyLayerSigner(request.signer);
  return { ...(await signer(payload)), payload, dockerReference };
}
