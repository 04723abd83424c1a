import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  DOCKER_CONTAINER_CONFIG,
  DOCKER_MANIFEST_V2,
  parseManifest,
  type ImageManifest,
} from "@frostyard/oci";
import {
  buildSignatureManifest,
  createLegacySignature,
  readSignatureLayers,
  renderImageManifest,
  signatureConfig,
  signatureTag,
  signPayload,
  SIGNATURE_ANNOTATION,
} from "@frostyard/cosign";

const DIR = fileURLToPath(new URL("../fixtures/shared/cosign/oci-sig-tag-legacy/", import.meta.url));
const fixtureBytes = readFileSync(`${DIR}sig-manifest.json`);
const fixture = parseManifest(fixtureBytes).manifest as ImageManifest;
const payload = readFileSync(`${DIR}simplesigning-payload.json`);
const fixtureSignature = fixture.layers[0]?.annotations?.[SIGNATURE_ANNOTATION] as string;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("signatureTag", () => {
  test.each([
    [`sha256:${"ab".repeat(32)}`, `sha256-${"ab".repeat(32)}.sig`],
    [
      "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268",
      "sha256-f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268.sig",
    ],
  ])("%s → %s", (digest, tag) => {
    expect(signatureTag(digest)).toBe(tag);
  });

  test.each<[string, string]>([
    ["latest", "has no algorithm"],
    [`sha256:${"AB".repeat(32)}`, "must be lowercase hex"],
    [`sha512:${"a".repeat(128)}`, "is not sha256; cosign's .sig tags need sha256:<64 hex>"],
  ])("refuses %s", (digest, fragment) => {
    expect(() => signatureTag(digest)).toThrow(fragment);
  });
});

describe("the .sig image cosign v2 writes (oci-sig-tag-legacy)", () => {
  const built = buildSignatureManifest(undefined, { payload, signatureB64: fixtureSignature });

  test("the manifest is byte for byte the one cosign pushed", () => {
    expect(built.manifestBytes.toString()).toBe(fixtureBytes.toString());
    expect(built.added).toBe(true);
  });

  test("the config blob is the one the fixture manifest names (digest and size)", () => {
    expect(sha256(built.config)).toBe(fixture.config.digest);
    expect(built.config.byteLength).toBe(fixture.config.size);
  });

  test("the payload layer is addressed by the payload's digest", () => {
    expect(fixture.layers[0]?.digest).toBe(sha256(payload));
    expect(fixture.layers[0]?.size).toBe(payload.byteLength);
  });

  test("rendering the parsed fixture reproduces its bytes", () => {
    expect(renderImageManifest(fixture).equals(fixtureBytes)).toBe(true);
  });

  test("readSignatureLayers names the signature and the payload blob", () => {
    const [layer, ...rest] = readSignatureLayers(fixture);
    expect(rest).toEqual([]);
    expect(layer?.signatureB64).toBe(fixtureSignature);
    expect(layer?.payloadDigest).toBe(sha256(payload));
    expect(layer?.mediaType).toBe("application/vnd.dev.cosign.simplesigning.v1+json");
    expect(layer?.certificate).toBeUndefined();
  });
});

const signer = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const second = await createLegacySignature({
  repository: "localhost:15381/tobby/fixture",
  manifestDigest: "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268",
  annotations: { run: "42" },
  signer: signer.privateKey,
});

describe("adding signatures keeps the ones already there", () => {
  test("a new signature is appended after the existing layer; config lists both", () => {
    const built = buildSignatureManifest(fixture, {
      payload: second.payload,
      signatureB64: second.signatureB64,
    });
    expect(built.added).toBe(true);
    expect(built.manifest.layers).toHaveLength(2);
    expect(built.manifest.layers[0]).toEqual(fixture.layers[0]);
    expect(built.manifest.layers[1]?.digest).toBe(sha256(second.payload));
    const config = JSON.parse(built.config.toString());
    expect(config.rootfs.diff_ids).toEqual([fixture.layers[0]?.digest, sha256(second.payload)]);
    expect(config.history).toHaveLength(2);
    expect(built.manifest.config.digest).toBe(sha256(built.config));
    expect(built.config.equals(signatureConfig(built.manifest.layers))).toBe(true);
  });

  test("the same layer again is a duplicate: nothing changes", () => {
    const built = buildSignatureManifest(fixture, { payload, signatureB64: fixtureSignature });
    expect(built.added).toBe(false);
    expect(built.manifestBytes.equals(fixtureBytes)).toBe(true);
  });

  test("re-signing the same payload with the same key is a duplicate when the key is known (cosign's rule)", () => {
    const first = buildSignatureManifest(undefined, {
      payload: second.payload,
      signatureB64: second.signatureB64,
    });
    const again = signPayload(second.payload, signer.privateKey);
    expect(again).not.toBe(second.signatureB64); // ECDSA is randomised
    const withKey = buildSignatureManifest(
      first.manifest,
      { payload: second.payload, signatureB64: again },
      { publicKey: signer.publicKey },
    );
    expect(withKey.added).toBe(false);
    expect(withKey.manifest.layers).toHaveLength(1);
    const withoutKey = buildSignatureManifest(first.manifest, {
      payload: second.payload,
      signatureB64: again,
    });
    expect(withoutKey.added).toBe(true);
    expect(withoutKey.manifest.layers).toHaveLength(2);
  });

  test("a signature by another key over the same payload is not a duplicate", () => {
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const built = buildSignatureManifest(
      fixture,
      { payload, signatureB64: signPayload(payload, other.privateKey) },
      { publicKey: other.publicKey },
    );
    expect(built.added).toBe(true);
    expect(built.manifest.layers).toHaveLength(2);
  });

  test("a new annotation (a Rekor bundle) makes it a different signature", () => {
    const built = buildSignatureManifest(fixture, {
      payload,
      signatureB64: fixtureSignature,
      bundle: '{"SignedEntryTimestamp":"x"}',
    });
    expect(built.added).toBe(true);
    expect(built.manifest.layers[1]?.annotations).toEqual({
      "dev.cosignproject.cosign/signature": fixtureSignature,
      "dev.sigstore.cosign/bundle": '{"SignedEntryTimestamp":"x"}',
    });
  });

  test("keyless layers carry certificate and chain annotations, sorted as Go writes maps", () => {
    const built = buildSignatureManifest(undefined, {
      payload,
      signatureB64: "c2ln",
      certificate: "CERT",
      bundle: "{}",
    });
    const text = built.manifestBytes.toString();
    expect(text).toContain(
      '"annotations":{"dev.cosignproject.cosign/signature":"c2ln","dev.sigstore.cosign/bundle":"{}","dev.sigstore.cosign/certificate":"CERT","dev.sigstore.cosign/chain":""}',
    );
  });

  test("an existing image with Docker media types keeps them", () => {
    const docker: ImageManifest = {
      ...fixture,
      mediaType: DOCKER_MANIFEST_V2,
      config: { ...fixture.config, mediaType: DOCKER_CONTAINER_CONFIG },
    };
    const built = buildSignatureManifest(docker, {
      payload: second.payload,
      signatureB64: second.signatureB64,
    });
    expect(built.manifest.mediaType).toBe(DOCKER_MANIFEST_V2);
    expect(built.manifest.config.mediaType).toBe(DOCKER_CONTAINER_CONFIG);
  });
});
