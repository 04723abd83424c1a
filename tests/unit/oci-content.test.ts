import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  addReferrer,
  contentRange,
  digestLike,
  digestProblem,
  filterByArtifactType,
  isIndex,
  ManifestError,
  parseManifest,
  parseUploadRange,
  rechunk,
  referrerDescriptor,
  referrersTag,
  sha256Digest,
  shouldChunk,
  type Descriptor,
  type Manifest,
} from "@frostyard/oci";

const hex = (c: string, n = 64) => c.repeat(n);
const D = `sha256:${hex("a")}`;

describe("digests", () => {
  test.each<[string, RegExp | undefined]>([
    [D, undefined],
    [`sha512:${hex("b", 128)}`, undefined],
    [`sha256:${hex("A")}`, /must be lowercase hex/],
    [`sha256:${hex("a", 63)}`, /63 hex characters; sha256 needs 64/],
    [`sha512:${hex("a")}`, /64 hex characters; sha512 needs 128/],
    [`sha384:${hex("a", 96)}`, /algorithm "sha384" is not supported/],
    [hex("a"), /has no algorithm/],
    [":abc", /has no algorithm/],
    [`sha256:${hex("z")}`, /non-hex/],
  ])("%s", (digest, problem) => {
    const found = digestProblem(digest);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  test("digestLike hashes with the expected digest's algorithm", () => {
    const bytes = Buffer.from("hello");
    expect(digestLike(`sha512:${hex("0", 128)}`, bytes)).toBe(
      `sha512:${createHash("sha512").update(bytes).digest("hex")}`,
    );
    expect(digestLike(D, bytes)).toBe(sha256Digest(bytes));
    expect(sha256Digest(bytes)).toBe(
      "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    );
  });
});

const desc = (mediaType: string, digest = D, size = 1): Descriptor => ({ mediaType, digest, size });
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("parseManifest", () => {
  const image = { schemaVersion: 2, config: desc("application/vnd.oci.image.config.v1+json"), layers: [] };
  const index = { schemaVersion: 2, manifests: [desc("application/vnd.oci.image.manifest.v1+json")] };

  test.each<[string, unknown, string | null, string, boolean]>([
    [
      "declared OCI index",
      { ...index, mediaType: "application/vnd.oci.image.index.v1+json" },
      null,
      "application/vnd.oci.image.index.v1+json",
      true,
    ],
    [
      "Docker list from Content-Type",
      index,
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      true,
    ],
    ["index by shape", index, "application/json", "application/vnd.oci.image.index.v1+json", true],
    [
      "Docker v2 declared",
      { ...image, mediaType: "application/vnd.docker.distribution.manifest.v2+json" },
      null,
      "application/vnd.docker.distribution.manifest.v2+json",
      false,
    ],
    [
      "OCI manifest from Content-Type with parameters",
      image,
      "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
      "application/vnd.oci.image.manifest.v1+json",
      false,
    ],
    ["manifest by shape", image, null, "application/vnd.oci.image.manifest.v1+json", false],
  ])("%s", (_name, value, contentType, mediaType, indexed) => {
    const parsed = parseManifest(json(value), contentType);
    expect(parsed.mediaType).toBe(mediaType);
    expect(isIndex(parsed.manifest)).toBe(indexed);
  });

  test.each<[string, Buffer, string | null, RegExp]>([
    ["not JSON", Buffer.from("<html>"), null, /m is not valid JSON/],
    ["array", json([]), null, /m is not a JSON object/],
    [
      "schema 1 by body",
      json({ schemaVersion: 1, fsLayers: [] }),
      null,
      /Docker schema 1 manifest, which is not supported/,
    ],
    ["schema 1 by type", json({}), "application/vnd.docker.distribution.manifest.v1+prettyjws", /schema 1/],
    ["no schemaVersion", json({ layers: [] }), null, /schemaVersion undefined; expected 2/],
    ["no config", json({ schemaVersion: 2, layers: [] }), null, /needs a "config" descriptor/],
    [
      "bad layers",
      json({ ...image, layers: [{ digest: D }] }),
      null,
      /needs a "layers" array of descriptors/,
    ],
    [
      "index type, no manifests",
      json({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json" }),
      null,
      /needs a "manifests" array/,
    ],
  ])("refuses %s", (_name, bytes, contentType, message) => {
    expect(() => parseManifest(bytes, contentType, "m")).toThrow(ManifestError);
    expect(() => parseManifest(bytes, contentType, "m")).toThrow(message);
  });
});

describe("referrers helpers", () => {
  test.each<[string, string]>([
    [D, `sha256-${hex("a")}`],
    [`sha512:${hex("b", 128)}`, `sha512-${hex("b", 121)}`],
  ])("referrersTag(%s)", (digest, tag) => {
    expect(referrersTag(digest)).toBe(tag);
    expect(referrersTag(digest).length).toBeLessThanOrEqual(128);
  });

  test.each<[string, Manifest, Partial<Descriptor>]>([
    [
      "artifactType wins",
      {
        schemaVersion: 2,
        artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        config: desc("application/vnd.oci.empty.v1+json"),
        layers: [],
        annotations: { a: "1" },
      },
      { artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json", annotations: { a: "1" } },
    ],
    [
      "config media type otherwise",
      { schemaVersion: 2, config: desc("application/vnd.example.sbom"), layers: [] },
      { artifactType: "application/vnd.example.sbom" },
    ],
    ["index without artifactType", { schemaVersion: 2, manifests: [] }, {}],
  ])("referrerDescriptor: %s", (_name, manifest, extra) => {
    expect(referrerDescriptor(manifest, "application/vnd.oci.image.manifest.v1+json", D, 42)).toEqual({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: D,
      size: 42,
      ...extra,
    });
  });

  const sig = { ...desc("m", `sha256:${hex("1")}`), artifactType: "sig" };
  const sbom = { ...desc("m", `sha256:${hex("2")}`), artifactType: "sbom" };

  test("addReferrer keeps existing entries and does not add a digest twice", () => {
    const first = addReferrer(undefined, sig, "t");
    expect(first).toEqual({
      changed: true,
      index: { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [sig] },
    });
    const second = addReferrer(first.index, sbom, "t");
    expect(second.changed).toBe(true);
    expect(second.index.manifests).toEqual([sig, sbom]);
    expect(addReferrer(second.index, { ...sig }, "t")).toEqual({ changed: false, index: second.index });
  });

  test("addReferrer refuses to overwrite a tag that holds an image", () => {
    const imageManifest: Manifest = { schemaVersion: 2, config: desc("c"), layers: [] };
    expect(() => addReferrer(imageManifest, sig, "r/x:sha256-1")).toThrow(
      /r\/x:sha256-1 holds an image manifest, not a referrers index/,
    );
  });

  test("filterByArtifactType", () => {
    expect(filterByArtifactType([sig, sbom], "sbom")).toEqual([sbom]);
    expect(filterByArtifactType([sig, sbom])).toEqual([sig, sbom]);
    expect(filterByArtifactType([sig, sbom], "none")).toEqual([]);
  });
});

describe("upload helpers", () => {
  test.each<[number, number, string]>([
    [0, 10, "0-9"],
    [10, 1, "10-10"],
    [33554432, 33554432, "33554432-67108863"],
  ])("contentRange(%i, %i) = %s", (start, length, expected) => {
    expect(contentRange(start, length)).toBe(expected);
  });

  test.each<[string | null, number | undefined]>([
    ["0-9", 9],
    ["bytes=0-1023", 1023],
    ["5-9", undefined],
    [null, undefined],
  ])("parseUploadRange(%j)", (header, end) => {
    expect(parseUploadRange(header)).toBe(end);
  });

  test.each<[string, Parameters<typeof shouldChunk>[0], number, Parameters<typeof shouldChunk>[2], boolean]>([
    ["small file", "/f", 10, "auto", false],
    ["big file", "/f", 200 * 1024 * 1024, "auto", true],
    ["big buffer stays monolithic", Buffer.alloc(1), 200 * 1024 * 1024, "auto", false],
    ["forced chunked", Buffer.alloc(1), 1, "chunked", true],
    ["forced monolithic", "/f", 200 * 1024 * 1024, "monolithic", false],
  ])("shouldChunk: %s", (_name, source, size, mode, expected) => {
    expect(shouldChunk(source, size, mode)).toBe(expected);
  });

  test.each<[number[], number, number[]]>([
    [[10], 4, [4, 4, 2]],
    [[3, 3, 3], 4, [4, 4, 1]],
    [[8], 4, [4, 4]],
    [[1, 1, 1, 1, 1], 2, [2, 2, 1]],
    [[], 4, []],
  ])("rechunk %j by %i → %j, bytes in order", async (pieces, size, expected) => {
    let n = 0;
    const input = pieces.map((len) => Uint8Array.from({ length: len }, () => n++));
    const out: Buffer[] = [];
    for await (const chunk of rechunk(
      (async function* () {
        yield* input;
      })(),
      size,
    ))
      out.push(chunk);
    expect(out.map((c) => c.length)).toEqual(expected);
    expect([...Buffer.concat(out)]).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
