/**
 * Packaging an existing rootfs with our packager against buildah, shared by `bench:image --tree PATH` and
 * `bench:mkosi -- --project large` (which runs it on its cold build's rootfs after the three mkosi runs).
 * Needs root (buildah mounts, the rootfs keeps owners), buildah and GNU time for buildah's peak RSS.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { formatBytes, markdownTable, recordingLogger, type Logger } from "@frostyard/kit";
import {
  canonicalPath,
  packageRootfs,
  previousFromLayout,
  readDpkgLists,
  scanRootfs,
} from "@frostyard/rootfs-oci";
import { containersConfig } from "../tests/helpers/containers";
import { upgradeInstalledPackage } from "../tests/helpers/rootfs-fixtures";

const run = promisify(execFile);
export const EPOCH = 1_700_000_000;

/** What `packagingAgainstBuildah` measured: its markdown table and what the table's figures are of. */
export interface PackagingAgainstBuildah {
  table: string;
  /** Packages in the tree's dpkg database. */
  packages: number;
  /** The tree's file content in bytes (the throughput's numerator). */
  rawBytes: number;
  /** The package whose files the "one package changed" rebuild rewrote. */
  changedPackage: string;
  /** CPUs, Node, time and load average when the run ended. */
  machine: string;
}

/** Runs a command under /usr/bin/time for its peak RSS (bytes), when that is installed. */
async function withPeakRss(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv },
): Promise<{ stdout: string; peakRss?: number }> {
  const gnuTime = "/usr/bin/time";
  if (!existsSync(gnuTime)) return { stdout: (await run(command, args, options)).stdout };
  const report = join(tmpdir(), `frostyard-bench-rss-${process.pid}-${Date.now()}`);
  try {
    const { stdout } = await run(gnuTime, ["-f", "%M", "-o", report, command, ...args], options);
    const kib = Number((await readFile(report, "utf8")).trim().split("\n").pop());
    return { stdout, ...(Number.isFinite(kib) ? { peakRss: kib * 1024 } : {}) };
  } finally {
    await rm(report, { force: true });
  }
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export async function treeBytes(root: string): Promise<number> {
  const { entries } = await scanRootfs(root);
  return entries.reduce((sum, e) => sum + e.size, 0);
}

/**
 * The two rebuilds both modes time against the image in layout `ours`: the same tree again (every layer
 * hashed, none compressed), and a copy with one mid-sized package upgraded (its layer and dpkg's status layer
 * compressed again). The copy (cp -a keeps what tar records) is removed after, so `rootfs` stays as packaged.
 */
export async function timedRebuilds(
  rootfs: string,
  lists: Awaited<ReturnType<typeof readDpkgLists>>,
  scratch: string,
  layoutOf: (name: string) => string,
  logger: Logger,
) {
  const previous = await previousFromLayout(layoutOf("ours"), "1");
  const rebuild = (tree: string, layout: string) =>
    timed(() =>
      packageRootfs({
        rootfs: tree,
        layout: layoutOf(layout),
        refName: "1",
        sourceDateEpoch: EPOCH,
        previous,
        logger,
      }),
    );
  const unchanged = await rebuild(rootfs, "ours-again");
  const changedTree = join(scratch, "rootfs-changed");
  await run("cp", ["-a", rootfs, changedTree]);
  const target = [...lists.keys()].sort()[Math.floor(lists.size / 2)]!;
  const { directoryLinks } = await scanRootfs(changedTree);
  await upgradeInstalledPackage(changedTree, target, "99:bench-rebuild", lists.get(target)!, (p) =>
    canonicalPath(p, directoryLinks),
  );
  const oneChanged = await rebuild(changedTree, "ours-changed");
  await rm(changedTree, { recursive: true, force: true });
  return { unchanged, oneChanged, target };
}

/**
 * `--tree PATH`: our packager against buildah on an existing tree, in one run: from scratch, with the
 * previous image and nothing changed, with one package changed (on a copy), and buildah from scratch
 * (`cp -a` into its mount, then a gzip commit). Throughput is the tree's file bytes over the time.
 */
export async function packagingAgainstBuildah(rootfs: string): Promise<PackagingAgainstBuildah> {
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-bench-image-tree-"));
  const containers = await containersConfig();
  const env = { ...process.env, ...containers.env };
  const logger = recordingLogger();
  try {
    const lists = await readDpkgLists(rootfs);
    const rawBytes = await treeBytes(rootfs);
    console.log(`tree: ${rootfs}, ${lists.size} packages, ${formatBytes(rawBytes)}`);
    const layoutOf = (name: string) => join(scratch, name);
    const ours = await timed(() =>
      packageRootfs({ rootfs, layout: layoutOf("ours"), refName: "1", sourceDateEpoch: EPOCH, logger }),
    );
    const oursRss = process.resourceUsage().maxRSS * 1024;
    const { unchanged, oneChanged, target } = await timedRebuilds(rootfs, lists, scratch, layoutOf, logger);
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const buildahStart = performance.now();
    const container = (await run("buildah", ["from", "scratch"], { env })).stdout.trim();
    const mountpoint = (await run("buildah", ["mount", container], { env })).stdout.trim();
    await run("cp", ["-a", `${rootfs}/.`, `${mountpoint}/`]);
    const copied = performance.now();
    const commit = await withPeakRss(
      "buildah",
      ["commit", "--quiet", "--disable-compression=false", container, `oci:${layoutOf("buildah")}:1`],
      { env },
    );
    const committed = performance.now();
    await run("buildah", ["rm", container], { env });
    const buildahSize = Number(
      (await run("du", ["-sb", join(layoutOf("buildah"), "blobs")])).stdout.split("\t")[0],
    );
    const baseline = committed - buildahStart;
    const mibPerSecond = (ms: number) => `${(rawBytes / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s`;
    const compressedAgain = (layers: { reused?: boolean }[]) => layers.filter((l) => !l.reused).length;
    const table = markdownTable(
      ["what", "time", "throughput", "vs buildah", "layers", "image size", "peak RSS"],
      (
        [
          [
            "packageRootfs, 64 layers max, gzip, from scratch",
            ours.ms,
            ours.value.layers.length,
            ours.value.size,
            formatBytes(oursRss),
          ],
          [
            `packageRootfs again, unchanged, previous image given (${compressedAgain(unchanged.value.layers)} compressed)`,
            unchanged.ms,
            unchanged.value.layers.length,
            unchanged.value.size,
            "",
          ],
          [
            `packageRootfs again, ${target} changed, previous image given (${compressedAgain(oneChanged.value.layers)} compressed)`,
            oneChanged.ms,
            oneChanged.value.layers.length,
            oneChanged.value.size,
            `${formatBytes(peakRss)} (all three)`,
          ],
          ["buildah from scratch + mount + `cp -a`", copied - buildahStart, 0, 0, ""],
          [
            "`buildah commit --disable-compression=false` (gzip)",
            committed - copied,
            1,
            buildahSize,
            commit.peakRss ? formatBytes(commit.peakRss) : "?",
          ],
          ["buildah, the two together (the baseline)", baseline, 1, buildahSize, ""],
        ] as [string, number, number, number, string][]
      ).map(([what, ms, layers, size, rss]) => [
        what,
        seconds(ms),
        mibPerSecond(ms),
        ratio(ms, baseline),
        layers ? String(layers) : "",
        size ? formatBytes(size) : "",
        rss,
      ]),
    );
    return {
      table,
      packages: lists.size,
      rawBytes,
      changedPackage: target,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, ${new Date().toISOString()}; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    };
  } finally {
    await run("buildah", ["rm", "--all"], { env }).catch(() => {});
    await containers.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
}
