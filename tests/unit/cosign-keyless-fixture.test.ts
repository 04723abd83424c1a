import { createHash, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CHAIN_ANNOTATION, type KeylessPolicy } from "@frostyard/cosign";
import { keylessVerifier, legacyLayerToBundle } from "@frostyard/cosign/keyless";
import { sha256Digest } from "@frostyard/oci";
import { readContainersSignature } from "../helpers/containers-signature";
import { sharedFixture } from "../helpers/fixtures";

/**
 * A real keyless cosign signature (containers/image's test fixture: Fulcio certificate for mitr@redhat.com,
 * issuer https://github.com/login/oauth, Rekor entry) through our legacy keyless verifier, against a trust
 * root made of the fixture's Fulcio root, the chain cosign stored, the fixture's Rekor key, and sigstore's
 * public-good 2022 CT log key (from sigstore's trusted_root.json; the fixtures carry none). That key is
 * right because sha256 of it is the log ID in the certificate's SCT, and the SCT verifies with it.
 */
const CTFE_2022 =
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiPSlFi0CmFTfEjCUqF9HuCEcYXNKAaYalIJmBZ8yyezPjTqhxrKBpMnaocVtLJBI1eM3uXnQzQGAJdJ4gs9Fyw==";
const DIR = sharedFixture("cosign/containers-image");
const signature = readContainersSignature(
  readFileSync(`${DIR}/dir-img-cosign-fulcio-rekor-valid/signature-1`),
);
const manifestDigest = sha256Digest(readFileSync(`${DIR}/dir-img-cosign-fulcio-rekor-valid/manifest.json`));
const repository = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";
const der = (pem: string) =>
  Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s/g, ""), "base64").toString(
    "base64",
  );

function trustedRoot(rekorPem = readFileSync(`${DIR}/rekor.pub`, "utf8"), ctlogs = [CTFE_2022]) {
  const rekorDer = createPublicKey(rekorPem).export({ format: "der", type: "spki" });
  const chain =
    (signature.annotations[CHAIN_ANNOTATION] ?? "").match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    ) ?? [];
  const start = "2021-01-01T00:00:00Z";
  return {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: "https://rekor.sigstore.dev",
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: rekorDer.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start },
        },
        logId: { keyId: createHash("sha256").update(rekorDer).digest("base64") },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "sigstore.dev", commonName: "sigstore" },
        uri: "https://fulcio.sigstore.dev",
        certChain: {
          certificates: [chain[0]!, readFileSync(`${DIR}/fulcio_v1.crt.pem`, "utf8")].map((p) => ({
            rawBytes: der(p),
          })),
        },
        validFor: { start },
      },
    ],
    ctlogs: ctlogs.map((key) => ({
      baseUrl: "https://ctfe.sigstore.dev/2022",
      hashAlgorithm: "SHA2_256",
      publicKey: { rawBytes: key, keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor: { start } },
      logId: { keyId: createHash("sha256").update(Buffer.from(key, "base64")).digest("base64") },
    })),
    timestampAuthorities: [],
  };
}

const policy: KeylessPolicy = { identity: "mitr@redhat.com", issuer: "https://github.com/login/oauth" };
const candidate = signature;

describe("a real cosign keyless signature", () => {
  test("the legacy annotations become a v0.1 message-signature bundle with the Rekor entry cosign logged", () => {
    const bundle = legacyLayerToBundle(signature.payload, signature.annotations) as unknown as {
      verificationMaterial: { tlogEntries: { kindVersion: unknown }[] };
      messageSignature: { messageDigest: { digest: string } };
    };
    expect(bundle.verificationMaterial.tlogEntries[0]!.kindVersion).toEqual({
      kind: "hashedrekord",
      version: "0.0.1",
    });
    expect(bundle.messageSignature.messageDigest.digest).toBe(
      createHash("sha256").update(signature.payload).digest("base64"),
    );
  });

  test.each<[string, KeylessPolicy, ReturnType<typeof trustedRoot> | undefined, string, boolean | string]>([
    ["accepted for its identity, issuer and digest", policy, undefined, manifestDigest, true],
    [
      "accepted by an identity regexp",
      { identityRegexp: "@redhat\\.com$", issuer: policy.issuer },
      undefined,
      manifestDigest,
      true,
    ],
    [
      "refused for another identity",
      { identity: "someone@example.com", issuer: policy.issuer },
      undefined,
      manifestDigest,
      "is not the expected someone@example.com",
    ],
    [
      "refused for another issuer",
      { identity: policy.identity!, issuer: "https://accounts.google.com" },
      undefined,
      manifestDigest,
      "issuer",
    ],
    [
      "refused for another image digest",
      policy,
      undefined,
      `sha256:${"0".repeat(64)}`,
      "does not match the image digest",
    ],
    [
      "refused when Rekor's key is not trusted",
      policy,
      trustedRoot(readFileSync(`${DIR}/cosign.pub`, "utf8")),
      manifestDigest,
      "no keyless signature accepted",
    ],
  ])("%s", async (_name, p, root, digest, expected) => {
    const verifier = keylessVerifier(root ?? trustedRoot(), p);
    const verdict = await verifier.legacy([candidate], { manifestDigest: digest, repository });
    if (expected === true) expect(verdict).toEqual({ ok: true, message: "1 keyless signature(s) accepted" });
    else {
      expect(verdict.ok).toBe(false);
      expect(verdict.message).toContain(expected);
    }
  });

  test("without the CT log that issued its SCT in the trust root, it is refused", async () => {
    const root = trustedRoot(undefined, []);
    const verdict = await keylessVerifier(root, policy).legacy([candidate], { manifestDigest, repository });
    expect(verdict).toEqual({ ok: false, message: "no keyless signature accepted: SCT verification failed" });
  });
});
