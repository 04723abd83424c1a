import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import {
  OCI_IMAGE_CONFIG,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  writeBlob,
  writeManifest,
} from "@frostyard/oci";
import { decompressFlag, unpackLayoutImage, whiteoutPlan } from "@frostyard/pipeline";
import { missingTools } from "../helpers/tools";

describe("whiteoutPlan", () => {
  test.each<[string[], { remove: string[]; opaque: string[] }]>([
    [["usr/", "usr/bin/sh"], { remove: [], opaque: [] }],
    [["etc/.wh.motd", "./var/lib/.wh.old"], { remove: ["etc/motd", "var/lib/old"], opaque: [] }],
    [["opt/app/.wh..wh..opq", "opt/app/new"], { remove: [], opaque: ["opt/app"] }],
    [[".wh..wh..opq"], { remove: [], opaque: [""] }],
    // Names that climb out of the tree are never acted on.
    [["../.wh.etc", "a/../../.wh.x"], { remove: [], opaque: [] }],
  ])("%j", (entries, plan) => {
    expect(whiteoutPlan(entries)).toEqual(plan);
  });

  test.each([
    [OCI_LAYER_TAR_GZIP, ["-z"]],
    [OCI_LAYER_TAR_ZSTD, ["--zstd"]],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", ["-z"]],
    ["application/vnd.oci.image.layer.v1.tar", []],
  ])("%s → tar %j", (mediaType, flags) => {
    expect(decompressFlag(mediaType)).toEqual(flags);
  });
});

/**
 * A Format=oci build has no tree to lint: the pipeline unpacks its layout with GNU tar. Two layers made by
 * GNU tar here, the second deleting a file and hiding a directory's lower contents, as OCI whiteouts do.
 */
describe.skipIf(missingTools("tar", "zstd"))("unpackLayoutImage with GNU tar", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-layout-rootfs-"));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  async function layer(name: string, files: Record<string, string>, compress: "gzip" | "zstd") {
    const tree = join(scratch, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(tree, path, ".."), { recursive: true });
      await writeFile(join(tree, path), content);
    }
    const archive = join(scratch, `${name}.tar`);
    execFileSync("tar", ["-c", compress === "gzip" ? "-z" : "--zstd", "-f", archive, "-C", tree, "."]);
    return readFile(archive);
  }

  test("layers land in order; whiteouts delete and opaque directories hide what lies below", async () => {
    const layout = join(scratch, "layout");
    const lower = await layer("lower", { "etc/motd": "hi", "opt/app/old": "1", "usr/bin/tool": "t" }, "gzip");
    const upper = await layer(
      "upper",
      { "etc/.wh.motd": "", "opt/app/.wh..wh..opq": "", "opt/app/new": "2", "usr/bin/other": "o" },
      "zstd",
    );
    const config = await writeBlob(layout, Buffer.from("{}"));
    const blobs = [await writeBlob(layout, lower), await writeBlob(layout, upper)];
    const manifest = await writeManifest(
      layout,
      {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: OCI_IMAGE_CONFIG, ...config },
        layers: [
          { mediaType: OCI_LAYER_TAR_GZIP, ...blobs[0]! },
          { mediaType: OCI_LAYER_TAR_ZSTD, ...blobs[1]! },
        ],
      },
      { refName: "1.0" },
    );
    const rootfs = join(scratch, "rootfs");
    await unpackLayoutImage(layout, manifest.digest, rootfs, recordingLogger());
    expect(existsSync(join(rootfs, "etc/motd"))).toBe(false);
    expect(existsSync(join(rootfs, "etc/.wh.motd"))).toBe(false);
    expect(await readdir(join(rootfs, "opt/app"))).toEqual(["new"]);
    expect(await readFile(join(rootfs, "usr/bin/tool"), "utf8")).toBe("t");
    expect(await readFile(join(rootfs, "usr/bin/other"), "utf8")).toBe("o");
    expect((await stat(join(rootfs, "usr/bin"))).isDirectory()).toBe(true);
  });
});
