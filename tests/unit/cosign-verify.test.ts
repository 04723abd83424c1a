import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  CosignKeyError,
  createLegacySignature,
  signPayload,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  verifyLegacySignature,
  verifySignatureSet,
  type SignatureCandidate,
  type VerifyOutcome,
} from "@frostyard/cosign";
import { readContainersSignature } from "../helpers/containers-signature";

const COSIGN = fileURLToPath(new URL("../fixtures/shared/cosign/", import.meta.url));
const legacy = {
  payload: readFileSync(`${COSIGN}oci-sig-tag-legacy/simplesigning-payload.json`),
  manifest: JSON.parse(readFileSync(`${COSIGN}oci-sig-tag-legacy/sig-manifest.json`, "utf8")),
  publicKey: readFileSync(`${COSIGN}oci-sig-tag-legacy/cosign.pub`, "utf8"),
};
const legacySignature: string = legacy.manifest.layers[0].annotations[SIGNATURE_ANNOTATION];
const LEGACY_DIGEST = "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268";
const LEGACY_REPOSITORY = "localhost:15381/tobby/fixture";
const otherPublicKey = readFileSync(`${COSIGN}containers-image/cosign.pub`, "utf8");

function failure(outcome: VerifyOutcome): { reason: string; message: string } {
  if (outcome.ok) throw new Error("expected a failed verification");
  return outcome;
}

describe("the real cosign signature in oci-sig-tag-legacy", () => {
  const base = {
    payload: legacy.payload,
    signatureB64: legacySignature,
    publicKey: legacy.publicKey,
    expected: { manifestDigest: LEGACY_DIGEST, repository: LEGACY_REPOSITORY },
  };

  test.each([LEGACY_REPOSITORY, `${LEGACY_REPOSITORY}:latest`, `${LEGACY_REPOSITORY}@${LEGACY_DIGEST}`])(
    "verifies for %s",
    (repository) => {
      const outcome = verifyLegacySignature({
        ...base,
        expected: { manifestDigest: LEGACY_DIGEST, repository },
      });
      expect(outcome).toEqual({
        ok: true,
        payload: { dockerReference: LEGACY_REPOSITORY, manifestDigest: LEGACY_DIGEST, annotations: null },
      });
    },
  );

  const altered = Buffer.from(legacy.payload);
  altered[altered.indexOf("f20c") + 1] = "1".charCodeAt(0);
  test.each<[string, Partial<typeof base>, string, string]>([
    [
      "an altered payload",
      { payload: altered },
      "bad-signature",
      "cryptographic signature verification failed",
    ],
    [
      "a payload with a trailing newline",
      { payload: Buffer.concat([legacy.payload, Buffer.from("\n")]) },
      "bad-signature",
      "not signed by this public key",
    ],
    ["the wrong key", { publicKey: otherPublicKey }, "bad-signature", "not signed by this public key"],
    [
      "another image digest",
      { expected: { manifestDigest: `sha256:${"0".repeat(64)}`, repository: LEGACY_REPOSITORY } },
      "digest-mismatch",
      `signature for digest ${LEGACY_DIGEST} does not match the image digest sha256:${"0".repeat(64)}`,
    ],
    [
      "another repository",
      { expected: { manifestDigest: LEGACY_DIGEST, repository: "localhost:15381/tobby/other" } },
      "identity-mismatch",
      'signature for identity "localhost:15381/tobby/fixture" is not accepted for repository localhost:15381/tobby/other',
    ],
    [
      "another registry port",
      { expected: { manifestDigest: LEGACY_DIGEST, repository: "localhost:5000/tobby/fixture" } },
      "identity-mismatch",
      "is not accepted",
    ],
    ["a signature that is not base64", { signatureB64: "not base64!" }, "malformed-signature", "not base64"],
    [
      "a signature of the wrong shape",
      { signatureB64: Buffer.from("garbage").toString("base64") },
      "bad-signature",
      "verification failed",
    ],
  ])("fails for %s", (_name, change, reason, message) => {
    const outcome = failure(verifyLegacySignature({ ...base, ...change }));
    expect(outcome.reason).toBe(reason);
    expect(outcome.message).toContain(message);
  });

  test("a public key that is not P-256 is a key error, not a failed signature", () => {
    const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(() => verifyLegacySignature({ ...base, publicKey: ed })).toThrow(CosignKeyError);
    expect(() => verifyLegacySignature({ ...base, publicKey: "not a key" })).toThrow(/input 'public-key'/);
  });
});

describe("createLegacySignature", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const verifiesForOurRepository = (signature: { payload: Buffer; signatureB64: string }) =>
    verifyLegacySignature({
      payload: signature.payload,
      signatureB64: signature.signatureB64,
      publicKey,
      expected: { manifestDigest: LEGACY_DIGEST, repository: "ghcr.io/acme/os" },
    }).ok;

  test("signs what cosign signs, and the signature verifies", async () => {
    const signature = await createLegacySignature({
      repository: "ghcr.io/acme/os:1.0",
      manifestDigest: LEGACY_DIGEST,
      signer: privateKey,
    });
    expect(signature.dockerReference).toBe("ghcr.io/acme/os");
    expect(signature.payload.toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"ghcr.io/acme/os"},"image":{"docker-manifest-digest":"${LEGACY_DIGEST}"},"type":"cosign container image signature"},"optional":null}`,
    );
    // ASN.1 DER: a SEQUENCE of two INTEGERs, 70–72 bytes for P-256.
    const der = Buffer.from(signature.signatureB64, "base64");
    expect(der[0]).toBe(0x30);
    expect(der.length).toBeGreaterThanOrEqual(68);
    expect(der.length).toBeLessThanOrEqual(72);
    expect(verifiesForOurRepository(signature)).toBe(true);
  });

  test("annotations land in optional; an empty set gives null as cosign does", async () => {
    const withAnnotations = await createLegacySignature({
      repository: "ghcr.io/acme/os",
      manifestDigest: LEGACY_DIGEST,
      signer: privateKey,
      annotations: { sha: "abc", ref: "main" },
    });
    expect(withAnnotations.payload.toString()).toContain('"optional":{"ref":"main","sha":"abc"}');
    const empty = await createLegacySignature({
      repository: "ghcr.io/acme/os",
      manifestDigest: LEGACY_DIGEST,
      signer: privateKey,
      annotations: {},
    });
    expect(empty.payload.toString()).toContain('"optional":null');
  });

  // The sign step makes every legacy signature through this function, keyless ones included.
  test("a keyless layer signer: its certificate, chain and Rekor entry travel with the payload it signed", async () => {
    const seen: Buffer[] = [];
    const signature = await createLegacySignature({
      repository: "ghcr.io/acme/os:1",
      manifestDigest: LEGACY_DIGEST,
      annotations: { run: "7" },
      signer: async (payload) => {
        seen.push(payload);
        return {
          signatureB64: signPayload(payload, privateKey),
          certificate: "CERT",
          chain: "CHAIN",
          bundle: "{}",
        };
      },
    });
    expect(seen).toEqual([signature.payload]);
    expect(signature).toMatchObject({
      certificate: "CERT",
      chain: "CHAIN",
      bundle: "{}",
      dockerReference: "ghcr.io/acme/os",
    });
    expect(signature.payload.toString()).toContain('"optional":{"run":"7"}');
    expect(verifiesForOurRepository(signature)).toBe(true);
  });

  test("a signed payload that is malformed fails after the signature check", () => {
    const payload = Buffer.from('{"critical":{},"optional":null}');
    const outcome = failure(
      verifyLegacySignature({
        payload,
        signatureB64: signPayload(payload, privateKey),
        publicKey,
        expected: { manifestDigest: LEGACY_DIGEST, repository: "ghcr.io/acme/os" },
      }),
    );
    expect(outcome.reason).toBe("malformed-payload");
    expect(outcome.message).toContain('critical: missing "type", "image", "identity"');
  });

  test("signing refuses a key that is not P-256", () => {
    expect(() =>
      signPayload(Buffer.from("x"), generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey),
    ).toThrow("key is ECDSA P-384; expected ECDSA P-256");
  });
});

describe("verifySignatureSet decides like a host", () => {
  const dir = `${COSIGN}containers-image/`;
  const candidate = (file: string): SignatureCandidate =>
    readContainersSignature(readFileSync(`${dir}${file}`));
  const expected = {
    manifestDigest: "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00",
    repository: "192.168.64.2:5000/cosign-signed-single-sample",
  };
  const publicKey = readFileSync(`${dir}cosign.pub`, "utf8");

  test("one good signature among bad ones is enough (dir-img-cosign-mixed)", () => {
    const result = verifySignatureSet(
      [candidate("dir-img-cosign-mixed/signature-1"), candidate("dir-img-cosign-mixed/signature-2")],
      publicKey,
      expected,
    );
    expect(result.accepted).toBe(true);
    expect(result.outcomes.map((o) => o.ok)).toEqual([false, true]);
    expect(result.message).toBe("1 of 2 signature(s) accepted");
  });

  test("other attachments are not signatures", () => {
    const result = verifySignatureSet(
      [candidate("dir-img-cosign-other-attachment/signature-1")],
      publicKey,
      expected,
    );
    expect(result).toMatchObject({ accepted: false, checked: 0, skipped: 1 });
    expect(result.message).toBe(
      "a signature was required, but no signature exists (1 non-signature attachment(s))",
    );
  });

  test("no signatures at all", () => {
    expect(verifySignatureSet([], publicKey, expected).message).toBe(
      "a signature was required, but no signature exists",
    );
  });

  test("every rejection is reported", () => {
    const result = verifySignatureSet(
      [
        candidate("unknown-cosign-key.signature"),
        { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload: Buffer.from("{}"), annotations: {} },
      ],
      publicKey,
      expected,
    );
    expect(result.accepted).toBe(false);
    expect(result.outcomes.map((o) => (o.ok ? "ok" : o.reason))).toEqual([
      "bad-signature",
      "missing-signature",
    ]);
    expect(result.message).toMatch(
      /^none of the signatures were accepted, reasons: cryptographic .*; missing dev\.cosignproject\.cosign\/signature annotation$/,
    );
  });
});
