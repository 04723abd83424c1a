import { sign, type KeyObject } from "node:crypto";
import type { RepositoryRef } from "@frostyard/oci";
import { cosignDockerReference } from "./identity";
import { simpleSigningPayload } from "./payload";
import { assertP256 } from "./public-key";

/** ECDSA over SHA-256 of the payload, ASN.1 DER, base64: the value of `dev.cosignproject.cosign/signature`. */
export function signPayload(payload: Uint8Array, privateKey: KeyObject): string {
  assertP256(privateKey, "key");
  return sign("sha256", payload, { key: privateKey, dsaEncoding: "der" }).toString("base64");
}

export interface LegacySignatureRequest {
  /** The image repository (`ghcr.io/acme/os`, any tag or digest is dropped), as cosign signs it. */
  repository: string | RepositoryRef;
  /** The manifest digest being signed; cosign signs by digest, never by tag. */
  manifestDigest: string;
  /** `-a key=value` annotations; none gives `"optional":null`. */
  annotations?: Record<string, string>;
  privateKey: KeyObject;
}

export interface LegacySignature {
  /** The simple-signing payload: the `.sig` layer's blob. */
  payload: Buffer;
  signatureB64: string;
  dockerReference: string;
}

/** A key-based cosign signature of one manifest digest, in the form `cosign sign --key` makes it. */
export function createLegacySignature(request: LegacySignatureRequest): LegacySignature {
  const dockerReference = cosignDockerReference(request.repository);
  const annotations =
    request.annotations && Object.keys(request.annotations).length > 0 ? request.annotations : null;
  const payload = simpleSigningPayload({
    dockerReference,
    manifestDigest: request.manifestDigest,
    annotations,
  });
  return { payload, signatureB64: signPayload(payload, request.privateKey), dockerReference };
}
