import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { readBlob, readIndex } from "@frostyard/oci";
import { packageRootfs, type PackageResult } from "@frostyard/rootfs-oci";
import {
  buildDpkgRootfs,
  buildSpecialRootfs,
  SPECIAL,
  SPECIAL_ROOTFS_TOOLS,
  syntheticPackages,
  upgradePackage,
} from "../helpers/rootfs-fixtures";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);
const EPOCH = 1_700_000_000;

async function layerTars(layout: string, result: PackageResult): Promise<Buffer[]> {
  const manifest = JSON.parse((await readBlob(layout, result.manifestDigest)).toString()) as {
    layers: { mediaType: string; digest: string }[];
  };
  return Promise.all(
    manifest.layers.map(async (layer) => {
      const blob = await readBlob(layout, layer.digest);
      return layer.mediaType.endsWith("+zstd") ? zstdDecompressSync(blob) : gunzipSync(blob);
    }),
  );
}

describe.skipIf(missingTools("tar", "umoci", "skopeo", ...SPECIAL_ROOTFS_TOOLS))(
  "packageRootfs with GNU tar",
  () => {
    let scratch: string;
    let rootfs: string;
    let first: PackageResult;

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), "frostyard-rootfs-oci-"));
      rootfs = join(scratch, "rootfs");
      await buildSpecialRootfs(rootfs);
      first = await packageRootfs(sameOptions("layout-a"));
    });
    afterAll(async () => {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });
    /** The one set of options both packagings use: only the layout directory differs. */
    const sameOptions = (layout: string) => ({
      rootfs,
      layout: join(scratch, layout),
      refName: "1.0",
      sourceDateEpoch: EPOCH,
      labels: { "org.opencontainers.image.title": "special" },
      annotations: { "org.example.note": "test" },
      bootable: true,
      logger: recordingLogger(),
    });

    test("the same rootfs packaged again, after its mtimes moved past SOURCE_DATE_EPOCH, gives the same digest", async () => {
      const now = new Date();
      await utimes(join(rootfs, SPECIAL.suid), now, now);
      await utimes(join(rootfs, "etc"), now, now);
      const second = await packageRootfs(sameOptions("layout-b"));
      expect(second.manifestDigest).toBe(first.manifestDigest);
      expect(second.layers).toEqual(first.layers);
      // …and a different epoch is a different image (the clamp is real, not a constant).
      const other = await packageRootfs({
        rootfs,
        layout: join(scratch, "layout-c"),
        refName: "1.0",
        sourceDateEpoch: EPOCH - 1,
        logger: recordingLogger(),
      });
      expect(other.manifestDigest).not.toBe(first.manifestDigest);
    });

    test("skopeo and umoci read the layout: digest, labels, architecture, annotations", async () => {
      const layout = join(scratch, "layout-a");
      const { stdout } = await run("skopeo", ["inspect", `oci:${layout}:1.0`]);
      const inspected = JSON.parse(stdout) as {
        Digest: string;
        Labels: Record<string, string>;
        Architecture: string;
        Layers: string[];
      };
      expect(inspected.Digest).toBe(first.manifestDigest);
      expect(inspected.Labels).toEqual({
        "org.opencontainers.image.title": "special",
        "containers.bootc": "1",
      });
      expect(inspected.Architecture).toBe("amd64"); // from the rootfs's dpkg status
      expect(inspected.Layers).toEqual(first.layers.map((l) => l.digest));
      const listed = await run("umoci", ["ls", "--layout", layout]);
      expect(listed.stdout.trim().split("\n")).toEqual(["1.0"]);
      const index = await readIndex(layout);
      expect(index.manifests.map((m) => m.digest)).toEqual([first.manifestDigest]);
      const manifest = JSON.parse((await readBlob(layout, first.manifestDigest)).toString()) as {
        annotations: unknown;
      };
      expect(manifest.annotations).toEqual({ "org.example.note": "test" });
      // Nothing of the packaging's scratch space is left in the layout.
      expect((await readdir(layout)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
    });

    test("layers hold deterministic pax headers and the capability xattr; diff_ids are of the tars", async () => {
      const tars = await layerTars(join(scratch, "layout-a"), first);
      const all = Buffer.concat(tars);
      expect(all.includes("SCHILY.xattr.security.capability")).toBe(true);
      expect(all.includes(" atime=")).toBe(false);
      expect(all.includes(" ctime=")).toBe(false);
      expect(all.includes(`PaxHeaders.`)).toBe(false); // the default name carries the pid
      const { createHash } = await import("node:crypto");
      expect(tars.map((t) => `sha256:${createHash("sha256").update(t).digest("hex")}`)).toEqual(
        first.layers.map((l) => l.diffId),
      );
    });

    test("applied in order, the layers give back SUID/SGID bits, the capability, the hardlink, the symlink and numeric owners", async () => {
      const tars = await layerTars(join(scratch, "layout-a"), first);
      const out = join(scratch, "extracted");
      await mkdir(out);
      for (const [i, tar] of tars.entries()) {
        const file = join(scratch, `layer-${i}.tar`);
        await writeFile(file, tar);
        await run("tar", [
          "--extract",
          "--xattrs",
          "--xattrs-include=*",
          "--same-permissions",
          "--same-owner",
          "--numeric-owner",
          `--file=${file}`,
          `--directory=${out}`,
        ]);
      }
      expect((await lstat(join(out, SPECIAL.suid))).mode & 0o7777).toBe(0o4755);
      expect((await lstat(join(out, SPECIAL.sgid))).mode & 0o7777).toBe(0o2755);
      expect((await lstat(join(out, "tmp"))).mode & 0o7777).toBe(0o1777);
      const { stdout } = await run("getcap", [join(out, SPECIAL.capability)]);
      expect(stdout).toContain("cap_net_raw=ep");
      const [a, b] = await Promise.all(SPECIAL.hardlinks.map((p) => lstat(join(out, p))));
      expect(a!.ino).toBe(b!.ino);
      expect(a!.nlink).toBe(2);
      expect(await readlink(join(out, SPECIAL.symlink.path))).toBe(SPECIAL.symlink.target);
      expect(await readlink(join(out, "bin"))).toBe("usr/bin");
      const owned = await lstat(join(out, SPECIAL.numericOwner.path));
      expect([owned.uid, owned.gid]).toEqual([SPECIAL.numericOwner.uid, SPECIAL.numericOwner.gid]);
      expect(owned.mtimeMs).toBeLessThanOrEqual(EPOCH * 1000);
      expect(await readFile(join(out, SPECIAL.oddName), "utf8")).toBe("odd name\n");
    });

    test("busybox, listed by dpkg through the merged-/usr link, lands in its package's layer", () => {
      const withBusybox = first.layers.filter((l) => l.packages.includes("busybox-static"));
      expect(withBusybox).toHaveLength(1);
      // The other layers hold directories, unowned files and the package database: no package.
      expect(first.layers.filter((l) => l.packages.length > 0)).toEqual(withBusybox);
    });

    test("zstd: a zstd media type, and reproducible too", async () => {
      const make = (name: string) =>
        packageRootfs({
          rootfs,
          layout: join(scratch, name),
          refName: "z",
          sourceDateEpoch: EPOCH,
          compression: "zstd",
          maxLayers: 1,
          logger: recordingLogger(),
        });
      const [x, y] = [await make("zstd-a"), await make("zstd-b")];
      expect(x.manifestDigest).toBe(y.manifestDigest);
      expect(x.layers).toHaveLength(1);
      const manifest = JSON.parse((await readBlob(join(scratch, "zstd-a"), x.manifestDigest)).toString()) as {
        layers: { mediaType: string }[];
      };
      expect(manifest.layers.map((l) => l.mediaType)).toEqual([
        "application/vnd.oci.image.layer.v1.tar+zstd",
      ]);
      const { stdout } = await run("skopeo", ["inspect", `oci:${join(scratch, "zstd-a")}:z`]);
      expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(x.manifestDigest);
    });

    test("bad input: a missing rootfs is named", async () => {
      await expect(
        packageRootfs({
          rootfs: join(scratch, "nope"),
          layout: join(scratch, "l"),
          refName: "1",
          sourceDateEpoch: 0,
          logger: recordingLogger(),
        }),
      ).rejects.toThrow(
        `packaging option rootfs: ${join(scratch, "nope")} does not exist; expected the directory of a built root filesystem`,
      );
    });

    test("bad input: a file name that is not valid UTF-8 is refused by its directory and bytes", async () => {
      const odd = join(scratch, "odd-rootfs");
      await mkdir(join(odd, "etc"), { recursive: true });
      await writeFile(Buffer.concat([Buffer.from(`${odd}/etc/`), Buffer.from([0x66, 0xff, 0x6f])]), "x");
      await expect(
        packageRootfs({
          rootfs: odd,
          layout: join(scratch, "odd-layout"),
          refName: "1",
          sourceDateEpoch: 0,
          logger: recordingLogger(),
        }),
      ).rejects.toThrow(`${odd}/etc holds a file name that is not valid UTF-8 (bytes 66ff6f)`);
    });

    test("a layout holding another layout version is refused, not overwritten", async () => {
      const layout = join(scratch, "foreign");
      await mkdir(layout);
      await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "9.9.9" }));
      await expect(
        packageRootfs({ rootfs, layout, refName: "1", sourceDateEpoch: 0, logger: recordingLogger() }),
      ).rejects.toThrow(/imageLayoutVersion "9.9.9"; only "1.0.0" is supported/);
      expect(await readFile(join(layout, "oci-layout"), "utf8")).toContain("9.9.9");
    });
  },
);

describe.skipIf(missingTools("tar"))("packageRootfs chunking of a dpkg-shaped rootfs", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-rootfs-chunks-"));
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("upgrading one package changes only its layer, the dpkg database's and nothing else", async () => {
    const rootfs = join(scratch, "rootfs");
    let packages = syntheticPackages(120, 12 * 1024 * 1024, 7);
    await buildDpkgRootfs(rootfs, packages);
    const options = {
      rootfs,
      refName: "v",
      sourceDateEpoch: EPOCH,
      maxLayers: 24,
      logger: recordingLogger(),
    };
    const before = await packageRootfs({ ...options, layout: join(scratch, "before") });
    expect(before.layers.length).toBeLessThanOrEqual(24);
    expect(before.layers.length).toBeGreaterThan(10);
    // Every package is in exactly one layer.
    const placed = before.layers.flatMap((l) => l.packages).sort();
    expect(placed).toEqual(packages.map((p) => p.name).sort());

    // A small package: pick one that shares a bin, so the test covers binning, not a lone layer.
    const small = packages.find((p) =>
      before.layers.some((l) => l.packages.length > 1 && l.packages.includes(p.name)),
    )!;
    packages = await upgradePackage(rootfs, packages, small.name, "1.0-2");
    const after = await packageRootfs({ ...options, layout: join(scratch, "after") });
    const old = new Set(before.layers.map((l) => l.digest));
    const changed = after.layers.filter((l) => !old.has(l.digest));
    expect(changed.map((l) => l.packages.includes(small.name) || l.packages.length === 0)).toEqual(
      changed.map(() => true),
    );
    expect(changed).toHaveLength(2); // its bin, and the unowned layer holding var/lib/dpkg/status
    expect(after.layers.map((l) => l.packages)).toEqual(before.layers.map((l) => l.packages));
  });
});
