import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  addManifest,
  blobPath,
  DigestMismatchError,
  hasBlob,
  initLayout,
  isValidRefName,
  OCI_IMAGE_MANIFEST,
  readBlob,
  readIndex,
  resolve,
  sha256Digest,
  writeBlob,
  writeManifest,
} from "@frostyard/oci";

// The OCI layout on the real filesystem (a temp dir); tests/e2e/oci-layout.test.ts checks it against skopeo and umoci.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "oci-layout-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const manifestFor = (configDigest: string, size: number) => ({
  schemaVersion: 2 as const,
  mediaType: OCI_IMAGE_MANIFEST,
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size },
  layers: [],
});

test.each<[string, boolean]>([
  ["latest", true],
  ["v1.2.3", true],
  ["ghcr.io/acme/os:v1", true],
  ["a--b", true],
  ["a@sha256:abc", true],
  ["", false],
  ["-x", false],
  ["a b", false],
  ["a//b", false],
  ["a/", false],
])("isValidRefName(%j) = %s", (name, valid) => {
  expect(isValidRefName(name)).toBe(valid);
});

describe("layout files", () => {
  test("initLayout writes oci-layout and an empty index, and keeps an existing layout", async () => {
    await initLayout(dir);
    expect(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(await readIndex(dir)).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [],
    });
    await writeManifest(dir, manifestFor(sha256Digest("{}"), 2), { refName: "keep" });
    await initLayout(dir);
    expect((await readIndex(dir)).manifests).toHaveLength(1);
  });

  test("another layout version is refused by name", async () => {
    await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
    await expect(initLayout(dir)).rejects.toThrow(
      `${join(dir, "oci-layout")} declares imageLayoutVersion "2.0.0"; only "1.0.0" is supported`,
    );
    await expect(readIndex(join(dir, "nothing"))).rejects.toThrow(
      `${join(dir, "nothing")} is not an OCI image layout: it has no oci-layout file`,
    );
  });

  test("blobs are stored under their digest and read back checked", async () => {
    const bytes = Buffer.from("layer bytes");
    const written = await writeBlob(dir, bytes);
    expect(written).toEqual({ digest: sha256Digest(bytes), size: bytes.length });
    expect(blobPath(dir, written.digest)).toBe(join(dir, "blobs", "sha256", written.digest.slice(7)));
    expect(await hasBlob(dir, written.digest)).toBe(true);
    expect(await readBlob(dir, written.digest)).toEqual(bytes);

    await writeFile(blobPath(dir, written.digest), "tampered");
    await expect(readBlob(dir, written.digest)).rejects.toThrow(DigestMismatchError);
    const missing = sha256Digest("missing");
    await expect(readBlob(dir, missing)).rejects.toThrow(`blob ${missing} is not in the layout ${dir}`);
  });
});

describe("index entries", () => {
  test("a ref name moves to the new manifest; unnamed entries are not duplicated", async () => {
    const first = await writeManifest(dir, manifestFor(sha256Digest("1"), 1), { refName: "v1" });
    const second = await writeManifest(dir, manifestFor(sha256Digest("2"), 1), { refName: "v1" });
    await writeManifest(dir, manifestFor(sha256Digest("2"), 1), { refName: "v2" });
    await addManifest(dir, first);
    await addManifest(dir, first);
    const index = await readIndex(dir);
    expect(
      index.manifests.map((m) => [m.digest, m.annotations?.["org.opencontainers.image.ref.name"]]),
    ).toEqual([
      [second.digest, "v1"],
      [second.digest, "v2"],
      [first.digest, undefined],
    ]);
    expect(await resolve(dir, "v1")).toEqual({
      ...second,
      annotations: { "org.opencontainers.image.ref.name": "v1" },
    });
  });

  test("resolve errors name the layout and what it has", async () => {
    await expect(resolve(dir)).rejects.toThrow(/is not an OCI image layout/);
    await initLayout(dir);
    await expect(resolve(dir)).rejects.toThrow(`${dir} holds 0 manifests; name one (none has a ref name)`);
    const only = await writeManifest(dir, manifestFor(sha256Digest("1"), 1), { refName: "v1" });
    expect((await resolve(dir)).digest).toBe(only.digest);
    await writeManifest(dir, manifestFor(sha256Digest("2"), 1), { refName: "v2" });
    await expect(resolve(dir)).rejects.toThrow(`${dir} holds 2 manifests; name one (v1, v2)`);
    await expect(resolve(dir, "v3")).rejects.toThrow(`no manifest named "v3" in ${dir}; it has v1, v2`);
  });

  test("an invalid ref name is refused with the accepted form", async () => {
    await expect(
      addManifest(
        dir,
        { mediaType: OCI_IMAGE_MANIFEST, digest: sha256Digest("x"), size: 1 },
        { refName: "bad name" },
      ),
    ).rejects.toThrow(
      'ref name "bad name" is not valid in an OCI layout; expected letters and digits separated by - . _ : @ + -- or /',
    );
  });
});
