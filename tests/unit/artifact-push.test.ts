import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeManifest, parseManifest, sha256Digest } from "@frostyard/oci";
import {
  ANNOTATION_TITLE,
  artifactManifest,
  ArtifactFilesError,
  checkTitles,
  describeFiles,
  DISK_ARTIFACT_TYPE,
  EMPTY_CONFIG,
} from "@frostyard/publish";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

describe("artifact titles", () => {
  test.each<[string, string[], string | undefined]>([
    ["one disk", ["disk.qcow2"], undefined],
    ["disks and their sums", ["disk.qcow2", "disk.vmdk", "SHA256SUMS"], undefined],
    ["no files", [], "an artifact needs at least one file"],
    ["the same name twice", ["disk.qcow2", "disk.qcow2"], 'two files are both named "disk.qcow2"'],
    ["a path, which oras would write elsewhere", ["../disk.qcow2"], "is not a file name"],
    ["a sub-directory", ["out/disk.qcow2"], "is not a file name"],
    ["an empty name", [""], "is not a file name"],
    ["dot-dot", [".."], "is not a file name"],
  ])("%s", (_name, titles, problem) => {
    if (problem === undefined) expect(() => checkTitles(titles)).not.toThrow();
    else {
      expect(() => checkTitles(titles)).toThrow(ArtifactFilesError);
      expect(() => checkTitles(titles)).toThrow(problem);
    }
  });
});

describe("artifact manifest", () => {
  const layers = [
    { title: "disk.qcow2", mediaType: "application/octet-stream", digest: D1, size: 1234 },
    { title: "SHA256SUMS", mediaType: "text/plain", digest: D2, size: 80 },
  ];

  test("empty config, artifactType, one titled layer per file in order (image-spec 1.1 artifact guidance)", () => {
    const manifest = artifactManifest(layers, DISK_ARTIFACT_TYPE, {
      "org.opencontainers.image.version": "1",
    });
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.frostyard.disk-image.v1",
      config: {
        mediaType: "application/vnd.oci.empty.v1+json",
        digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        size: 2,
      },
      layers: [
        {
          mediaType: "application/octet-stream",
          digest: D1,
          size: 1234,
          annotations: { [ANNOTATION_TITLE]: "disk.qcow2" },
        },
        { mediaType: "text/plain", digest: D2, size: 80, annotations: { [ANNOTATION_TITLE]: "SHA256SUMS" } },
      ],
      annotations: { "org.opencontainers.image.version": "1" },
    });
    // Our own parser (the one the registry client reads manifests with) takes it as an image manifest.
    expect(parseManifest(encodeManifest(manifest)).mediaType).toBe(
      "application/vnd.oci.image.manifest.v1+json",
    );
  });

  test("the empty config's digest is the sha256 of the 2 bytes {}", () => {
    expect(EMPTY_CONFIG.digest).toBe(sha256Digest("{}"));
  });

  test("no annotations → no annotations key; the same files always make the same digest (no creation time)", () => {
    const a = encodeManifest(artifactManifest(layers, DISK_ARTIFACT_TYPE));
    const b = encodeManifest(artifactManifest(layers, DISK_ARTIFACT_TYPE));
    expect(JSON.parse(a.toString())).not.toHaveProperty("annotations");
    expect(sha256Digest(a)).toBe(sha256Digest(b));
  });

  test("a duplicate title is refused before anything is pushed", () => {
    expect(() => artifactManifest([layers[0]!, layers[0]!], DISK_ARTIFACT_TYPE)).toThrow(ArtifactFilesError);
  });
});

describe("describing files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "artifact-push-unit-"));
    await writeFile(join(dir, "disk.qcow2"), "not really a disk");
    await writeFile(join(dir, "SHA256SUMS"), "sums\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test("a known sha256 is taken as given (the upload checks it); an unknown one is computed from the file", async () => {
    const given = "f".repeat(64);
    const [disk, sums] = await describeFiles([
      { path: join(dir, "disk.qcow2"), sha256: given },
      { path: join(dir, "SHA256SUMS"), mediaType: "text/plain" },
    ]);
    expect(disk).toEqual({
      path: join(dir, "disk.qcow2"),
      title: "disk.qcow2",
      mediaType: "application/octet-stream",
      digest: `sha256:${given}`,
      size: 17,
    });
    expect(sums).toMatchObject({
      title: "SHA256SUMS",
      mediaType: "text/plain",
      digest: `sha256:${createHash("sha256").update("sums\n").digest("hex")}`,
      size: 5,
    });
  });

  test.each<[string, string]>([
    ["uppercase hex", "F".repeat(64)],
    ["too short", "f".repeat(63)],
    ["with the algorithm", `sha256:${"f".repeat(64)}`],
  ])("a given sha256 that is %s is refused", async (_name, sha256) => {
    await expect(describeFiles([{ path: join(dir, "disk.qcow2"), sha256 }])).rejects.toThrow(
      "is not a lowercase sha256 in hex",
    );
  });

  test("a title overrides the base name", async () => {
    const [layer] = await describeFiles([{ path: join(dir, "disk.qcow2"), title: "os-1.0.qcow2" }]);
    expect(layer?.title).toBe("os-1.0.qcow2");
  });
});
