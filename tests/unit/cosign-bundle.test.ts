import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parseManifest, type ImageIndex, type ImageManifest } from "@frostyard/oci";
import {
  buildBundleReferrerManifest,
  bundleKeyHint,
  dssePae,
  verifyBundleSignature,
} from "@frostyard/cosign";

const DIR = fileURLToPath(new URL("../fixtures/shared/cosign/oci-bundle-referrer/", import.meta.url));
const bundleBytes = readFileSync(`${DIR}bundle-sigstore.json`);
const manifestBytes = readFileSync(`${DIR}bundle-referring-manifest.json`);
const referrer = parseManifest(manifestBytes).manifest as ImageManifest;
const index = parseManifest(readFileSync(`${DIR}bundle-referrers-index.json`)).manifest as ImageIndex;
const publicKey = readFileSync(`${DIR}bundle-cosign.pub`, "utf8");
const subjectDigest = referrer.subject?.digest as string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary JSON paths
function changedBundle(mutate: (bundle: any) => void): Buffer {
  const bundle = JSON.parse(bundleBytes.toString());
  mutate(bundle);
  return Buffer.from(JSON.stringify(bundle));
}

describe("dssePae", () => {
  test.each<[string, string, string]>([
    ["application/vnd.in-toto+json", "hello", "DSSEv1 28 application/vnd.in-toto+json 5 hello"],
    ["t", "", "DSSEv1 1 t 0 "],
    ["ü", "é", "DSSEv1 2 ü 2 é"], // lengths are UTF-8 bytes
  ])("(%s, %s)", (type, body, expected) => {
    expect(dssePae(type, Buffer.from(body)).toString()).toBe(expected);
  });
});

describe("the cosign v3 bundle referrer fixture", () => {
  test("verifies with its public key against its subject digest", () => {
    expect(
      verifyBundleSignature({ bundle: bundleBytes, publicKey, expected: { manifestDigest: subjectDigest } }),
    ).toEqual({
      ok: true,
      predicateType: "https://sigstore.dev/cosign/sign/v1",
      keyHintMatches: true,
      tlogEntries: 1,
    });
  });

  test("the key hint is base64 sha256 of the key's DER", () => {
    const der = createPublicKey(publicKey).export({ type: "spki", format: "der" });
    expect(bundleKeyHint(createPublicKey(publicKey))).toBe(createHash("sha256").update(der).digest("base64"));
  });

  const otherKey = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
  const statement = JSON.parse(
    Buffer.from(JSON.parse(bundleBytes.toString()).dsseEnvelope.payload, "base64").toString(),
  );
  test.each<[string, Buffer, string, string, string]>([
    ["another image digest", bundleBytes, publicKey, `sha256:${"1".repeat(64)}`, "digest-mismatch"],
    [
      "the wrong key",
      bundleBytes,
      otherKey.export({ type: "spki", format: "pem" }).toString(),
      subjectDigest,
      "bad-signature",
    ],
    [
      "a statement re-pointed at another image",
      changedBundle((b) => {
        statement.subject[0].digest.sha256 = "1".repeat(64);
        b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
      }),
      publicKey,
      `sha256:${"1".repeat(64)}`,
      "bad-signature",
    ],
    [
      "a changed payload type",
      changedBundle((b) => (b.dsseEnvelope.payloadType = "text/plain")),
      publicKey,
      subjectDigest,
      "malformed-bundle",
    ],
    [
      "no signatures",
      changedBundle((b) => (b.dsseEnvelope.signatures = [])),
      publicKey,
      subjectDigest,
      "malformed-bundle",
    ],
    [
      "a message-signature bundle",
      changedBundle((b) => delete b.dsseEnvelope),
      publicKey,
      subjectDigest,
      "malformed-bundle",
    ],
    [
      "another media type",
      changedBundle((b) => (b.mediaType = "application/json")),
      publicKey,
      subjectDigest,
      "malformed-bundle",
    ],
    ["not JSON", Buffer.from("{"), publicKey, subjectDigest, "malformed-bundle"],
  ])("fails for %s", (_name, bundle, key, digest, reason) => {
    const outcome = verifyBundleSignature({
      bundle,
      publicKey: key,
      expected: { manifestDigest: digest as string },
    });
    expect(outcome.ok ? "ok" : outcome.reason).toBe(reason);
  });

  test("the referrer manifest is rebuilt byte for byte, and is the one the fallback index lists", () => {
    const built = buildBundleReferrerManifest({
      subject: referrer.subject as ImageManifest["config"],
      bundle: bundleBytes,
      created: referrer.annotations?.["org.opencontainers.image.created"] as string,
    });
    expect(built.manifestBytes.equals(manifestBytes)).toBe(true);
    expect(`sha256:${createHash("sha256").update(built.manifestBytes).digest("hex")}`).toBe(
      index.manifests[0]?.digest,
    );
    expect(built.manifestBytes.byteLength).toBe(index.manifests[0]?.size);
    expect(`sha256:${createHash("sha256").update(built.config).digest("hex")}`).toBe(referrer.config.digest);
  });
});
