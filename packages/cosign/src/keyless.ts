import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from "node:crypto";
import { bundleFromJSON, bundleToJSON, type Bundle, type SerializedBundle } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness, type Signer } from "@sigstore/sign";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { InputError } from "@frostyard/kit";
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  IN_TOTO_PAYLOAD_TYPE,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "./constants";
import { imageSignatureStatement } from "./key-bundle";
import type { NewSignatureLayer } from "./legacy-format";
import type { SignatureVerifier, Verdict } from "./registry-verify";
import {
  certificateIdentityProblem,
  expectedIdentity,
  jwtClaims,
  type KeylessPolicy,
} from "./keyless-policy";
import type { ImageSigner, SignerIdentity } from "./sign-images";
import {
  digestRule,
  repositoryRule,
  verifySignedPayload,
  type ExpectedImage,
  type SignatureCandidate,
} from "./verify";

/** The audience Fulcio accepts Actions tokens for. */
export const SIGSTORE_AUDIENCE = "sigstore";
export const ID_TOKEN_PERMISSION_HINT =
  "add `permissions: id-token: write` to the job (or workflow) so the runner can issue an OIDC token";

type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * Requests the job's OIDC token from the Actions runtime (what `core.getIDToken` does), for `audience`.
 * Without the runtime variables, which the runner sets only under `id-token: write`, it fails at once with
 * how to fix it.
 */
export async function fetchActionsIdToken(
  env: Record<string, string | undefined>,
  options: { audience?: string; fetch?: FetchLike } = {},
): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !token) {
    throw new InputError(
      "key",
      "is empty, so signing is keyless, but the job has no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are not set)",
      `${ID_TOKEN_PERMISSION_HINT}, or give a cosign key`,
    );
  }
  const request = new URL(url);
  request.searchParams.set("audience", options.audience ?? SIGSTORE_AUDIENCE);
  const response = await (options.fetch ?? fetch)(request, {
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
  });
  if (!response.ok) {
    throw new Error(
      `the Actions OIDC token request answered HTTP ${response.status}; ${ID_TOKEN_PERMISSION_HINT}`,
    );
  }
  const body = (await response.json()) as { value?: unknown };
  if (typeof body.value !== "string" || body.value.split(".").length !== 3) {
    throw new Error("the Actions OIDC token response has no JWT in 'value'");
  }
  return body.value;
}

function splitPemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/**
 * Asks Fulcio for a certificate over an ephemeral public key, proving possession by signing the token's
 * subject (Fulcio's v2 `signingCert`). Returns the chain as PEM, leaf first.
 */
export async function requestSigningCertificate(request: {
  fulcioUrl: string;
  idToken: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  fetch?: FetchLike;
}): Promise<string[]> {
  const claims = jwtClaims(request.idToken);
  const subject = String(claims.email ?? claims.sub ?? "");
  const proof = sign("sha256", Buffer.from(subject), { key: request.privateKey, dsaEncoding: "der" });
  const response = await (request.fetch ?? fetch)(`${request.fulcioUrl}/api/v2/signingCert`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: request.idToken },
      publicKeyRequest: {
        publicKey: { algorithm: "ECDSA", content: request.publicKey.export({ type: "spki", format: "pem" }) },
        proofOfPossession: proof.toString("base64"),
      },
    }),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(
      `Fulcio at ${request.fulcioUrl} refused the certificate request (HTTP ${response.status}): ${text.slice(0, 300)}`,
    );
  }
  const body = JSON.parse(text) as {
    signedCertificateEmbeddedSct?: { chain?: { certificates?: string[] } };
    signedCertificateDetachedSct?: { chain?: { certificates?: string[] } };
  };
  const chain = (body.signedCertificateEmbeddedSct ?? body.signedCertificateDetachedSct)?.chain?.certificates;
  if (!chain || chain.length === 0)
    throw new Error(`Fulcio at ${request.fulcioUrl} answered without a certificate chain`);
  return chain.flatMap(splitPemCertificates);
}

/** cosign's `dev.sigstore.cosign/bundle` annotation: the Rekor SET and the entry it signs, in Go's field order. */
export function rekorBundleAnnotation(entry: Bundle["verificationMaterial"]["tlogEntries"][number]): string {
  if (!entry.inclusionPromise) throw new Error("the Rekor entry has no signed entry timestamp");
  return JSON.stringify({
    SignedEntryTimestamp: Buffer.from(entry.inclusionPromise.signedEntryTimestamp).toString("base64"),
    Payload: {
      body: Buffer.from(entry.canonicalizedBody).toString("base64"),
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId!.keyId).toString("hex"),
    },
  });
}

/**
 * The verification material of a v0.1 sigstore bundle rebuilt from a cosign layer's annotations: the leaf
 * certificate and the Rekor entry its `dev.sigstore.cosign/bundle` annotation (a SET) describes. Signatures
 * and attestations share it; only what was signed (message or DSSE envelope) differs.
 */
export function legacyVerificationMaterial(certificate: string, rekor: string) {
  const set = JSON.parse(rekor) as {
    SignedEntryTimestamp: string;
    Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
  };
  const body = JSON.parse(Buffer.from(set.Payload.body, "base64").toString("utf8")) as {
    kind: string;
    apiVersion: string;
  };
  return {
    x509CertificateChain: {
      certificates: [{ rawBytes: new X509Certificate(certificate).raw.toString("base64") }],
    },
    tlogEntries: [
      {
        logIndex: String(set.Payload.logIndex),
        logId: { keyId: Buffer.from(set.Payload.logID, "hex").toString("base64") },
        kindVersion: { kind: body.kind, version: body.apiVersion },
        integratedTime: String(set.Payload.integratedTime),
        inclusionPromise: { signedEntryTimestamp: set.SignedEntryTimestamp },
        inclusionProof: undefined,
        canonicalizedBody: set.Payload.body,
      },
    ],
    timestampVerificationData: undefined,
  };
}

/**
 * A sigstore bundle (v0.1, message signature) rebuilt from a keyless `.sig` layer's annotations, so
 * sigstore-js can check certificate chain, SCT and Rekor SET exactly as for any bundle.
 */
export function legacyLayerToBundle(
  payload: Uint8Array,
  annotations: Record<string, string>,
): SerializedBundle {
  const certificate = annotations[CERTIFICATE_ANNOTATION];
  const rekor = annotations[BUNDLE_ANNOTATION];
  const signature = annotations[SIGNATURE_ANNOTATION];
  if (!certificate || !rekor || !signature) {
    throw new Error(
      `a keyless signature needs the ${CERTIFICATE_ANNOTATION}, ${BUNDLE_ANNOTATION} and ${SIGNATURE_ANNOTATION} annotations`,
    );
  }
  return {
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: legacyVerificationMaterial(certificate, rekor),
    messageSignature: {
      messageDigest: { algorithm: "SHA2_256", digest: createHash("sha256").update(payload).digest("base64") },
      signature,
    },
  } as unknown as SerializedBundle;
}

/**
 * Keyless verification against a sigstore trust root: the certificate chains to a trusted Fulcio CA with a
 * valid SCT, the signature and Rekor's signed entry timestamp verify (sigstore-js's Verifier), the
 * certificate names the expected issuer and identity, and then, for `.sig` layers, the payload's digest and
 * repository as a host checks them.
 */
export function keylessVerifier(trustedRoot: unknown, policy: KeylessPolicy): SignatureVerifier {
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
  });
  const check = (bundle: SerializedBundle, artifact?: Buffer): string | undefined => {
    try {
      const signer = verifier.verify(toSignedEntity(bundleFromJSON(bundle), artifact), {
        extensions: { issuer: policy.issuer },
      });
      return certificateIdentityProblem(signer.identity?.subjectAlternativeName, policy);
    } catch (error) {
      return (error as Error).message;
    }
  };
  return {
    legacy: async (candidates: readonly SignatureCandidate[], expected: ExpectedImage): Promise<Verdict> => {
      const problems: string[] = [];
      let accepted = 0;
      for (const candidate of candidates) {
        if (
          candidate.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE ||
          !candidate.annotations[CERTIFICATE_ANNOTATION]
        )
          continue;
        let problem: string | undefined;
        try {
          problem = check(
            legacyLayerToBundle(candidate.payload, candidate.annotations),
            Buffer.from(candidate.payload),
          );
        } catch (error) {
          problem = (error as Error).message;
        }
        if (problem === undefined) {
          const leaf = new X509Certificate(candidate.annotations[CERTIFICATE_ANNOTATION]);
          const outcome = verifySignedPayload(
            candidate.payload,
            candidate.annotations[SIGNATURE_ANNOTATION] ?? "",
            leaf.publicKey,
            {
              digest: digestRule(expected.manifestDigest),
              identity: repositoryRule(expected.repository),
            },
          );
          if (!outcome.ok) problem = outcome.message;
        }
        if (problem === undefined) accepted++;
        else problems.push(problem);
      }
      if (accepted > 0) return { ok: true, message: `${accepted} keyless signature(s) accepted` };
      return {
        ok: false,
        message:
          problems.length === 0
            ? "a signature was required, but no keyless signature exists"
            : `no keyless signature accepted: ${problems.join("; ")}`,
      };
    },
    bundle: async (bytes: Uint8Array, expected: ExpectedImage): Promise<Verdict> => {
      let serialized: SerializedBundle;
      try {
        serialized = JSON.parse(Buffer.from(bytes).toString("utf8")) as SerializedBundle;
      } catch (error) {
        return { ok: false, message: `the bundle is not JSON (${(error as Error).message})` };
      }
      const problem = check(serialized);
      if (problem) return { ok: false, message: problem };
      const statement = JSON.parse(
        Buffer.from(
          (serialized as { dsseEnvelope?: { payload: string } }).dsseEnvelope?.payload ?? "",
          "base64",
        ).toString() || "{}",
      ) as { subject?: { digest?: Record<string, string> }[] };
      const [algorithm, hex] = expected.manifestDigest.split(":");
      const matches = (statement.subject ?? []).some(
        (s) => algorithm !== undefined && s.digest?.[algorithm] === hex,
      );
      return matches
        ? { ok: true, message: "keyless bundle verified" }
        : { ok: false, message: `no statement subject has digest ${expected.manifestDigest}` };
    },
  };
}

/** A sigstore-js Signer over our ephemeral key and the Fulcio certificate we already hold. */
function certificateSigner(privateKey: KeyObject, certificatePem: string): Signer {
  return {
    sign: async (data: Buffer) => ({
      signature: sign("sha256", data, { key: privateKey, dsaEncoding: "der" }),
      key: { $case: "x509Certificate", certificate: certificatePem },
    }),
  };
}

export interface KeylessSignerOptions {
  idToken: string;
  fulcioUrl: string;
  rekorUrl: string;
  verifier: SignatureVerifier;
  fetch?: FetchLike;
}

/**
 * Keyless signing as `cosign sign` does it: one ephemeral P-256 key and one Fulcio certificate for the run,
 * each signature logged in Rekor. Legacy layers carry the certificate, chain and Rekor bundle annotations;
 * the bundle format is a DSSE sigstore bundle built by sigstore-js.
 */
export async function keylessSigner(options: KeylessSignerOptions): Promise<ImageSigner> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const chain = await requestSigningCertificate({
    fulcioUrl: options.fulcioUrl,
    idToken: options.idToken,
    privateKey,
    publicKey,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const [leaf, ...rest] = chain as [string, ...string[]];
  const certificate = new X509Certificate(leaf);
  const claims = jwtClaims(options.idToken);
  const identity: SignerIdentity = {
    kind: "keyless",
    identity:
      /URI:([^,]+)/.exec(certificate.subjectAltName ?? "")?.[1] ??
      /email:([^,]+)/.exec(certificate.subjectAltName ?? "")?.[1] ??
      expectedIdentity(claims),
    issuer: String(claims.iss ?? ""),
  };
  const signer = certificateSigner(privateKey, leaf);
  const rekor = new RekorWitness({ rekorBaseURL: options.rekorUrl });
  // DSSE bundles are logged as `intoto` entries (what cosign v2 attest writes): Rekor stores their
  // signatures as given, which every Rekor, including sigstore-js's mock, answers the same way.
  const dsseRekor = new RekorWitness({ rekorBaseURL: options.rekorUrl, entryType: "intoto" });
  return {
    identity: () => identity,
    legacy: async (payload): Promise<Omit<NewSignatureLayer, "payload">> => {
      const bundle = await new MessageSignatureBundleBuilder({ signer, witnesses: [rekor] }).create({
        data: payload,
      });
      const entry = bundle.verificationMaterial.tlogEntries[0];
      if (!entry) throw new Error(`Rekor at ${options.rekorUrl} returned no log entry`);
      return {
        signatureB64: Buffer.from(bundle.content.messageSignature.signature).toString("base64"),
        certificate: leaf,
        chain: rest.join(""),
        bundle: rekorBundleAnnotation(entry),
      };
    },
    bundle: async (manifestDigest, annotations) => {
      const statement = imageSignatureStatement(manifestDigest, annotations);
      const bundle = await new DSSEBundleBuilder({ signer, witnesses: [dsseRekor] }).create({
        data: statement,
        type: IN_TOTO_PAYLOAD_TYPE,
      });
      return Buffer.from(JSON.stringify(bundleToJSON(bundle)));
    },
    verifier: () => options.verifier,
  };
}
