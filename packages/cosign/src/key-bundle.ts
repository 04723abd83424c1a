import { sign, type KeyObject } from "node:crypto";
import { digestProblem } from "@frostyard/oci";
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
} from "./constants";
import { bundleKeyHint, dssePae } from "./bundle";
import { assertP256 } from "./public-key";

/**
 * The in-toto statement cosign v3 signs for an image (`cosign sign` in the bundle format): one subject, the
 * manifest digest, the user's annotations on the subject, the `cosign/sign/v1` predicate type and no predicate.
 */
export function imageSignatureStatement(
  manifestDigest: string,
  annotations: Record<string, string> = {},
): Buffer {
  const problem = digestProblem(manifestDigest);
  if (problem) throw new TypeError(`statement subject: ${problem}`);
  const [algorithm, hex] = manifestDigest.split(":") as [string, string];
  return Buffer.from(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [{ digest: { [algorithm]: hex }, annotations }],
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    }),
  );
}

/** A DSSE envelope over `payload`, signed with ECDSA P-256 over SHA-256 of the PAE. */
export function signDsse(payload: Uint8Array, privateKey: KeyObject): Record<string, unknown> {
  assertP256(privateKey, "key");
  const sig = sign("sha256", dssePae(IN_TOTO_PAYLOAD_TYPE, payload), { key: privateKey, dsaEncoding: "der" });
  return {
    payload: Buffer.from(payload).toString("base64"),
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    signatures: [{ sig: sig.toString("base64") }],
  };
}

/**
 * A key-based sigstore bundle (v0.3) for one image digest, as `cosign sign --key … --tlog-upload=false`
 * writes it: the DSSE envelope and the key hint. There is no transparency-log entry (key-based signing
 * here never talks to Rekor), so verifiers must be told to accept that (`--insecure-ignore-tlog`).
 */
export function createKeyBundle(request: {
  manifestDigest: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  annotations?: Record<string, string>;
}): Buffer {
  const statement = imageSignatureStatement(request.manifestDigest, request.annotations);
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: bundleKeyHint(request.publicKey) } },
      dsseEnvelope: signDsse(statement, request.privateKey),
    }),
  );
}
