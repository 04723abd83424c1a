import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { hasBlob, initLayout } from "@frostyard/oci";
import { buildLayer, type LayerPlan } from "@frostyard/rootfs-oci";
import { missingTools } from "../helpers/tools";

describe.skipIf(missingTools("tar"))("buildLayer: tar's stream compressed into the layout", () => {
  let scratch: string;
  let layout: string;
  let work: string;
  let rootfs: string;
  const plan = (paths: string[]): LayerPlan => ({ kind: "bin", packages: ["p"], paths, size: 0 });
  const context = () => ({
    rootfs,
    layout,
    scratch: work,
    compression: "gzip" as const,
    sourceDateEpoch: 0,
    logger: recordingLogger(),
  });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-layer-"));
    layout = join(scratch, "layout");
    work = join(scratch, "work");
    rootfs = join(scratch, "rootfs");
    await initLayout(layout);
    await mkdir(work);
    await mkdir(join(rootfs, "etc"), { recursive: true });
    await writeFile(join(rootfs, "etc/a"), "a\n");
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("writes the blob and leaves nothing behind in scratch or the blobs directory", async () => {
    const layer = await buildLayer(plan(["etc", "etc/a"]), 0, context());
    expect(await hasBlob(layout, layer.digest)).toBe(true);
    expect(layer.diffId).not.toBe(layer.digest);
    expect(await readdir(work)).toEqual([]);
    expect((await readdir(join(layout, "blobs", "sha256"))).filter((n) => n.startsWith("."))).toEqual([]);
  });

  test("a path that vanished fails with tar's own message, and nothing is stored", async () => {
    const before = await readdir(join(layout, "blobs", "sha256"));
    await expect(buildLayer(plan(["etc/a", "etc/gone"]), 1, context())).rejects.toThrow(
      /etc\/gone: Cannot stat/,
    );
    expect(await readdir(join(layout, "blobs", "sha256"))).toEqual(before);
    expect(await readdir(work)).toEqual([]);
  });

  test("tar that cannot start does not leave the compressor waiting", async () => {
    // A PATH without tar: the spawn fails before any byte is written.
    const bin = join(scratch, "bin-without-tar");
    await mkdir(bin, { recursive: true });
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      await expect(buildLayer(plan(["etc/a"]), 2, context())).rejects.toThrow(/tar/);
    } finally {
      process.env.PATH = path;
    }
    expect(await readdir(work)).toEqual([]);
  }, 10_000);

  test("a compressor that cannot write does not leave tar waiting (tar is stopped)", async () => {
    const noBlobs = join(scratch, "layout-without-blobs");
    await mkdir(noBlobs, { recursive: true });
    await expect(buildLayer(plan(["etc/a"]), 3, { ...context(), layout: noBlobs })).rejects.toThrow(
      /ENOENT|EPIPE|tar/,
    );
    expect(await readdir(work)).toEqual([]);
  }, 10_000);
});
