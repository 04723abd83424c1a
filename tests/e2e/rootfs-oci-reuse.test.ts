import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { pushLayout, RegistryClient } from "@frostyard/oci";
import {
  hashLayerTars,
  ownersFromLists,
  packageRootfs,
  planLayers,
  previousFromLayout,
  previousFromRegistry,
  readDpkgLists,
  scanRootfs,
  type PackageOptions,
} from "@frostyard/rootfs-oci";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { buildDpkgRootfs, syntheticPackages, upgradePackage } from "../helpers/rootfs-fixtures";
import { missingTools } from "../helpers/tools";

/**
 * Rebuilds cost what changed: a layer whose tar hashes to a diff_id of the previous image is taken over
 * (its compressed blob, from a layout or downloaded from a registry) instead of compressed again. Real GNU
 * tar, a real registry; the images must be byte-identical to packaging from scratch.
 */
describe.skipIf(missingTools("tar", "docker-registry"))("packageRootfs with a previous image", () => {
  let scratch: string;
  let rootfs: string;
  let registry: TestRegistry;
  let packages = syntheticPackages(24, 6 * 2 ** 20, 7);
  const options = (layout: string): PackageOptions => ({
    rootfs,
    layout: join(scratch, layout),
    refName: "1.0",
    sourceDateEpoch: 1_700_000_000,
    maxLayers: 12,
    logger: recordingLogger(),
  });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-reuse-"));
    rootfs = join(scratch, "rootfs");
    await buildDpkgRootfs(rootfs, packages);
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("the hash pass (one xargs, tar | sha256sum per layer) gives the diff_ids packaging from scratch computes", async () => {
    const fromScratch = await packageRootfs(options("hash-pass"));
    const scan = await scanRootfs(rootfs);
    const plans = planLayers(
      scan.entries,
      ownersFromLists(await readDpkgLists(rootfs), scan.directoryLinks),
      12,
    );
    const lists = await mkdtemp(join(scratch, "hash-lists-"));
    const context = { rootfs, scratch: lists, sourceDateEpoch: 1_700_000_000 };
    expect(await hashLayerTars(plans, context)).toEqual(fromScratch.layers.map((l) => l.diffId));
    expect(await readdir(lists)).toEqual([]);
    // A tar that fails (a listed path is gone) fails the pass, with tar's own words.
    const broken = plans.map((plan, i) =>
      i === 1 ? { ...plan, paths: [...plan.paths, "gone/away"] } : plan,
    );
    await expect(hashLayerTars(broken, context)).rejects.toThrow(
      /hashing the layers' tars failed \(xargs exited with code \d+\): .*gone\/away.*No such file/,
    );
    expect(await readdir(lists)).toEqual([]);
  });

  test("unchanged tree against the previous layout: every layer taken over, same digest as from scratch", async () => {
    const first = await packageRootfs(options("first"));
    expect(first.layers.every((l) => l.reused === false)).toBe(true);
    const logger = recordingLogger();
    const again = await packageRootfs({
      ...options("again"),
      previous: await previousFromLayout(join(scratch, "first"), "1.0"),
      logger,
    });
    expect(again.manifestDigest).toBe(first.manifestDigest);
    expect(again.layers.map((l) => l.reused)).toEqual(first.layers.map(() => true));
    expect(logger.lines).toContain(
      `${first.layers.length} of ${first.layers.length} layers unchanged since ${join(scratch, "first")}:1.0: taken over, not compressed again`,
    );
    // The layout is complete: every blob the manifest names is in it.
    const blobs = new Set(await readdir(join(scratch, "again/blobs/sha256")));
    for (const layer of again.layers) expect(blobs.has(layer.digest.slice("sha256:".length))).toBe(true);
  });

  test("one package upgraded, previous image in a registry: only its layers compressed, the rest downloaded", async () => {
    const base = await packageRootfs(options("base"));
    const client = new RegistryClient();
    const target = { registry: registry.host, repository: "os/reuse" };
    await pushLayout({
      client,
      layout: join(scratch, "base"),
      refName: "1.0",
      target,
      tags: ["1.0"],
      logger: recordingLogger(),
    });

    const small = packages[3]!;
    packages = await upgradePackage(rootfs, packages, small.name, "1.0-2");
    const scratchBuild = await packageRootfs(options("scratch-built"));
    const previous = await previousFromRegistry(client, { ...target, tag: "1.0" });
    expect(previous?.digest).toBe(base.manifestDigest);
    const rebuilt = await packageRootfs({ ...options("rebuilt"), previous });
    // Byte for byte what packaging from scratch makes.
    expect(rebuilt.manifestDigest).toBe(scratchBuild.manifestDigest);
    const oldDigests = new Set(base.layers.map((l) => l.digest));
    for (const layer of rebuilt.layers) expect(layer.reused).toBe(oldDigests.has(layer.digest));
    const compressed = rebuilt.layers.filter((l) => !l.reused);
    expect(compressed).toHaveLength(2); // the upgraded package's bin, and the layer with var/lib/dpkg/status
    expect(compressed.some((l) => l.packages.includes(small.name))).toBe(true);
    const blobs = new Set(await readdir(join(scratch, "rebuilt/blobs/sha256")));
    for (const layer of rebuilt.layers) expect(blobs.has(layer.digest.slice("sha256:".length))).toBe(true);
  });

  test("another compression is never taken over (a zstd build from a gzip previous compresses everything)", async () => {
    const zstd = await packageRootfs({
      ...options("zstd"),
      compression: "zstd",
      previous: await previousFromLayout(join(scratch, "rebuilt"), "1.0"),
    });
    expect(zstd.layers.every((l) => l.reused === false)).toBe(true);
  });

  test("a previous image the registry does not have is undefined, not an error", async () => {
    expect(
      await previousFromRegistry(new RegistryClient(), {
        registry: registry.host,
        repository: "os/reuse",
        tag: "nope",
      }),
    ).toBeUndefined();
  });
});
