import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { sharedFixture } from "../helpers/fixtures";
import {
  checkPromoteTags,
  createKeyBundle,
  imageSignatureStatement,
  verifyBundleSignature,
} from "@frostyard/cosign";

const FIXTURE = sharedFixture("cosign/oci-bundle-referrer/bundle-sigstore.json");

describe("key-based bundles", () => {
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8"));
  const fixtureStatement = Buffer.from(fixture.dsseEnvelope.payload, "base64");
  const subjectHex: string = JSON.parse(fixtureStatement.toString()).subject[0].digest.sha256;

  test("the statement is byte for byte what cosign v3 signed for the fixture image", () => {
    expect(imageSignatureStatement(`sha256:${subjectHex}`).toString()).toBe(fixtureStatement.toString());
  });

  test("a bundle we make verifies with its public key, names the key, and only for its digest", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const digest = `sha256:${subjectHex}`;
    const bundle = createKeyBundle({
      manifestDigest: digest,
      privateKey,
      publicKey,
      annotations: { run: "1" },
    });
    const parsed = JSON.parse(bundle.toString());
    expect(Object.keys(parsed)).toEqual(["mediaType", "verificationMaterial", "dsseEnvelope"]);
    expect(verifyBundleSignature({ bundle, publicKey, expected: { manifestDigest: digest } })).toEqual({
      ok: true,
      predicateType: "https://sigstore.dev/cosign/sign/v1",
      keyHintMatches: true,
      tlogEntries: 0,
    });
    const other = verifyBundleSignature({
      bundle,
      publicKey,
      expected: { manifestDigest: `sha256:${"0".repeat(64)}` },
    });
    expect(other.ok ? "ok" : other.reason).toBe("digest-mismatch");
    const wrongKey = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
    const refused = verifyBundleSignature({
      bundle,
      publicKey: wrongKey,
      expected: { manifestDigest: digest },
    });
    expect(refused.ok ? "ok" : refused.reason).toBe("bad-signature");
  });

  test("a non-P-256 key is refused", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    expect(() => createKeyBundle({ manifestDigest: `sha256:${subjectHex}`, privateKey, publicKey })).toThrow(
      "ECDSA P-384",
    );
  });
});

describe("checkPromoteTags", () => {
  test.each([
    [["latest"], ["latest"]],
    [
      ["latest", "v1", "latest"],
      ["latest", "v1"],
    ],
    [[], []],
  ])("%j → %j", (tags, expected) => {
    expect(checkPromoteTags(tags)).toEqual(expected);
  });
  test.each([
    [".hidden", "'.hidden' is not a tag"],
    ["repo:tag", "'repo:tag' is not a tag"],
    ["x".repeat(129), "is not a tag"],
    [`sha256-${"a".repeat(64)}`, "is a cosign or referrers tag"],
    [`sha256-${"a".repeat(64)}.att`, "is a cosign or referrers tag"],
  ])("%s is refused", (tag, message) => {
    expect(() => checkPromoteTags([tag])).toThrow(message);
  });
});
