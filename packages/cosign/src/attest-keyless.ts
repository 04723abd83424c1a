import { generateKeyPairSync, sign } from "node:crypto";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { DSSEBundleBuilder, RekorWitness, type Signer } from "@sigstore/sign";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { statementProblem, type AttestationSigner, type AttestationVerifier } from "./attest";
import { BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, IN_TOTO_PAYLOAD_TYPE } from "./constants";
import { DSSE_ENVELOPE_MEDIA_TYPE, DsseError, parseDsseEnvelope, renderDsseEnvelope } from "./dsse";
import { certificateIdentityProblem, type KeylessPolicy } from "./keyless-policy";
import { legacyVerificationMaterial, rekorBundleAnnotation, requestSigningCertificate } from "./keyless";

// A module of its own (`@frostyard/cosign/attest-keyless`): sigstore-js is loaded only by keyless runs.

type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * Keyless attestations as `cosign attest` makes them on Actions: one ephemeral P-256 key certified by
 * Fulcio for the run, each envelope logged in Rekor as an `intoto` entry, and the layer carrying the
 * certificate, chain and Rekor bundle annotations. The certificate is this signer's own (cosign attest
 * is a separate invocation from cosign sign and gets one too).
 */
export async function keylessAttestationSigner(options: {
  idToken: string;
  fulcioUrl: string;
  rekorUrl: string;
  fetch?: FetchLike;
}): Promise<AttestationSigner> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const chain = await requestSigningCertificate({
    fulcioUrl: options.fulcioUrl,
    idToken: options.idToken,
    privateKey,
    publicKey,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const [leaf, ...rest] = chain as [string, ...string[]];
  const signer: Signer = {
    sign: async (data: Buffer) => ({
      signature: sign("sha256", data, { key: privateKey, dsaEncoding: "der" }),
      key: { $case: "x509Certificate", certificate: leaf },
    }),
  };
  const rekor = new RekorWitness({ rekorBaseURL: options.rekorUrl, entryType: "intoto" });
  return async (statement) => {
    const bundle = await new DSSEBundleBuilder({ signer, witnesses: [rekor] }).create({
      data: statement,
      type: IN_TOTO_PAYLOAD_TYPE,
    });
    const entry = bundle.verificationMaterial.tlogEntries[0];
    if (!entry) throw new Error(`Rekor at ${options.rekorUrl} returned no log entry`);
    if (bundle.content.$case !== "dsseEnvelope") throw new Error("sigstore-js built no DSSE envelope");
    const envelope = bundle.content.dsseEnvelope;
    return {
      envelope: renderDsseEnvelope(envelope.payloadType, envelope.payload, envelope.signatures[0]!.sig),
      certificate: leaf,
      chain: rest.join(""),
      bundle: rekorBundleAnnotation(entry),
    };
  };
}

/**
 * A sigstore bundle (v0.1, DSSE) rebuilt from a keyless `.att` layer: the envelope blob, the certificate
 * annotation and the Rekor bundle annotation, so sigstore-js checks chain, SCT, signature and SET.
 */
export function attestationLayerToBundle(
  envelopeBytes: Uint8Array,
  annotations: Record<string, string>,
): SerializedBundle {
  const certificate = annotations[CERTIFICATE_ANNOTATION];
  const rekor = annotations[BUNDLE_ANNOTATION];
  if (!certificate || !rekor) {
    throw new Error(
      `a keyless attestation needs the ${CERTIFICATE_ANNOTATION} and ${BUNDLE_ANNOTATION} annotations`,
    );
  }
  const envelope = parseDsseEnvelope(envelopeBytes);
  return {
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: legacyVerificationMaterial(certificate, rekor),
    dsseEnvelope: {
      payload: envelope.payload.toString("base64"),
      payloadType: envelope.payloadType,
      signatures: envelope.signatures.map((s) => ({ sig: s.sig.toString("base64"), keyid: s.keyid ?? "" })),
    },
  } as unknown as SerializedBundle;
}

/**
 * Keyless attestation verification against a sigstore trust root, as `cosign verify-attestation
 * --certificate-identity … --certificate-oidc-issuer …`: the bundle rebuilt from the layer verifies
 * (chain, SCT, DSSE signature, Rekor SET), the certificate names the expected issuer and identity, then
 * the statement is about this image with the claimed predicate type.
 */
export function keylessAttestationVerifier(trustedRoot: unknown, policy: KeylessPolicy): AttestationVerifier {
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
  });
  return async (candidate, expected) => {
    if (candidate.mediaType !== DSSE_ENVELOPE_MEDIA_TYPE) {
      return { ok: false, message: `layer media type ${candidate.mediaType} is not a DSSE envelope` };
    }
    let problem: string | undefined;
    try {
      const bundle = attestationLayerToBundle(candidate.envelope, candidate.annotations);
      const signer = verifier.verify(toSignedEntity(bundleFromJSON(bundle)), {
        extensions: { issuer: policy.issuer },
      });
      problem = certificateIdentityProblem(signer.identity?.subjectAlternativeName, policy);
    } catch (error) {
      if (error instanceof DsseError) return { ok: false, message: error.message };
      problem = (error as Error).message;
    }
    if (problem) return { ok: false, message: problem };
    const envelope = parseDsseEnvelope(candidate.envelope);
    const statement = statementProblem(envelope.payloadType, envelope.payload, candidate, expected);
    return statement
      ? { ok: false, message: statement }
      : { ok: true, message: "keyless attestation verified" };
  };
}
