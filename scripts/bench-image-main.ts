/**
 * The image benchmark: packaging a root filesystem as an OCI image and pushing it, each measured in
 * the same run against what a user would do instead.
 *
 *   1. Packaging: packageRootfs (64 chunked layers, gzip; also zstd and one layer) against
 *      `buildah from scratch` + `cp -a` into its mount + `buildah commit` to an OCI layout.
 *   2. Push: pushLayout of the layout against `skopeo copy oci:… docker://…`, each into a fresh real
 *      registry (alternating, three rounds); then a re-push of the unchanged image.
 *   3. Update cost: upgrade one package at a time in a dpkg-shaped tree (a real Debian trixie tree, the
 *      toolbox's, when its cached tarball is here; else a synthetic one), package again, and count the
 *      compressed bytes of layers a host does not have yet, as a share of the image, chunked against a
 *      single layer.
 *
 * Figures go to stdout and, unless --no-docs, into docs/benchmarks/image.md.
 *
 * `--tree PATH` packages an existing rootfs instead (e.g. the large mkosi project's output, for
 * docs/benchmarks/build-mkosi-large.md): section 1 only (gzip, unchanged, one package changed on a copy,
 * against buildah), with MiB/s and peak RSS on each side, printed and never written to image.md. The tree
 * itself is only read. That part lives in bench-packaging.ts: bench:mkosi --project large runs it too.
 */
import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { formatBytes, markdownTable, recordingLogger } from "@frostyard/kit";
import { parseReference, pushLayout, RegistryClient } from "@frostyard/oci";
import {
  canonicalPath,
  packageRootfs,
  readDpkgLists,
  scanRootfs,
  type PackageResult,
} from "@frostyard/rootfs-oci";
import { containersConfig } from "../tests/helpers/containers";
import { startRegistry, type TestRegistry } from "../tests/helpers/registry";
import {
  buildDpkgRootfs,
  syntheticPackages,
  upgradeInstalledPackage,
} from "../tests/helpers/rootfs-fixtures";
import {
  EPOCH,
  packagingAgainstBuildah,
  ratio,
  seconds,
  timed,
  timedRebuilds,
  treeBytes,
} from "./bench-packaging";

const run = promisify(execFile);

interface Options {
  synthetic: boolean;
  docs: boolean;
  tree?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { synthetic: false, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--synthetic") options.synthetic = true;
    else if (arg === "--no-docs") options.docs = false;
    else if (arg === "--tree" && argv[i + 1]) {
      options.tree = argv[++i]!;
      options.docs = false;
    } else throw new Error(`unknown argument '${arg}'; expected --synthetic, --no-docs, --tree PATH`);
  }
  return options;
}

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;

/** The toolbox's cached trixie tree (docs/toolbox.md), newest first. */
async function toolboxTarball(): Promise<string | undefined> {
  const cache = process.env.FROSTYARD_CACHE || "/var/cache/frostyard";
  const names = await readdir(cache).catch(() => [] as string[]);
  const found = names
    .filter((n) => /^toolbox-trixie-.*\.tar\.zst$/.test(n))
    .sort()
    .reverse();
  return found[0] ? join(cache, found[0]) : undefined;
}

/** Compressed bytes of the new image's layers that the old one does not have. */
function fetchBytes(before: PackageResult, after: PackageResult): { bytes: number; layers: number } {
  const have = new Set(before.layers.map((l) => l.digest));
  const missing = after.layers.filter((l) => !have.has(l.digest));
  return { bytes: missing.reduce((sum, l) => sum + l.size, 0), layers: missing.length };
}

const layerBytes = (result: PackageResult) => result.layers.reduce((sum, l) => sum + l.size, 0);

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0)
    throw new Error("bench:image needs root (buildah mounts, the rootfs keeps owners)");
  if (options.tree) {
    const measured = await packagingAgainstBuildah(options.tree);
    console.log(`\n${measured.table}\n\nMachine: ${measured.machine}`);
    return;
  }
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-bench-image-"));
  const containers = await containersConfig();
  const registries: TestRegistry[] = [];
  const freshRegistry = async () => {
    const started = await startRegistry();
    registries.push(started);
    return started.host;
  };
  const env = { ...process.env, ...containers.env };
  const logger = recordingLogger();
  const rows: string[] = [];
  try {
    // ---- the tree ------------------------------------------------------------------------------
    const rootfs = join(scratch, "rootfs");
    const tarball = options.synthetic ? undefined : await toolboxTarball();
    let treeName: string;
    if (tarball) {
      await mkdir(rootfs);
      await run("tar", [
        "--zstd",
        "--extract",
        "--same-permissions",
        "--same-owner",
        "--xattrs",
        "--xattrs-include=*",
        `--file=${tarball}`,
        `--directory=${rootfs}`,
      ]);
      treeName = "a real Debian trixie tree (the toolbox's: mkosi, skopeo and their dependencies)";
    } else {
      await buildDpkgRootfs(rootfs, syntheticPackages(300, 300 * 1024 * 1024, 3));
      treeName = "a synthetic dpkg-shaped tree (300 packages, incompressible content)";
    }
    const lists = await readDpkgLists(rootfs);
    const rawBytes = await treeBytes(rootfs);
    console.log(`tree: ${treeName}, ${lists.size} packages, ${formatBytes(rawBytes)}`);

    // ---- 1. packaging --------------------------------------------------------------------------
    const layoutOf = (name: string) => join(scratch, name);
    const ours = await timed(() =>
      packageRootfs({ rootfs, layout: layoutOf("ours"), refName: "1", sourceDateEpoch: EPOCH, logger }),
    );
    const oursZstd = await timed(() =>
      packageRootfs({
        rootfs,
        layout: layoutOf("ours-zstd"),
        refName: "1",
        sourceDateEpoch: EPOCH,
        compression: "zstd",
        logger,
      }),
    );
    const oursSingle = await timed(() =>
      packageRootfs({
        rootfs,
        layout: layoutOf("ours-single"),
        refName: "1",
        sourceDateEpoch: EPOCH,
        maxLayers: 1,
        logger,
      }),
    );
    // Rebuilds: the same tree again against the first image (every layer hashed, none compressed), and after
    // one mid-sized package changed (its layer and dpkg's status layer compressed again).
    const { unchanged, oneChanged, target } = await timedRebuilds(rootfs, lists, scratch, layoutOf, logger);
    const compressedAgain = (layers: { reused?: boolean }[]) => layers.filter((l) => !l.reused).length;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const buildahStart = performance.now();
    const container = (await run("buildah", ["from", "scratch"], { env })).stdout.trim();
    const mountpoint = (await run("buildah", ["mount", container], { env })).stdout.trim();
    await run("cp", ["-a", `${rootfs}/.`, `${mountpoint}/`]);
    const copied = performance.now();
    await run("buildah", ["commit", "--quiet", container, `oci:${layoutOf("buildah")}:1`], { env });
    const buildahEnd = performance.now();
    // buildah commit stores its layer uncompressed unless told otherwise; the gzip commit is the like-for-like one.
    const gzipStart = performance.now();
    await run(
      "buildah",
      ["commit", "--quiet", "--disable-compression=false", container, `oci:${layoutOf("buildah-gzip")}:1`],
      { env },
    );
    const gzipEnd = performance.now();
    await run("buildah", ["rm", container], { env });
    const blobBytes = async (layout: string) =>
      Number((await run("du", ["-sb", join(layout, "blobs")])).stdout.split("\t")[0]);
    const buildahSize = await blobBytes(layoutOf("buildah"));
    const buildahGzipSize = await blobBytes(layoutOf("buildah-gzip"));
    const baseline = copied - buildahStart + (gzipEnd - gzipStart);
    // The like-for-like baseline: cp -a into buildah's mount, then a gzip commit.
    const packagingTable = markdownTable(
      ["what", "time", "vs buildah cp -a + gzip commit", "layers", "image size"],
      (
        [
          ["packageRootfs, 64 layers max, gzip", ours, ours.value.layers.length, ours.value.size],
          ["packageRootfs, 64 layers max, zstd", oursZstd, oursZstd.value.layers.length, oursZstd.value.size],
          ["packageRootfs, 1 layer, gzip", oursSingle, 1, oursSingle.value.size],
          [
            `packageRootfs again, unchanged tree, previous image given (${compressedAgain(unchanged.value.layers)} layers compressed)`,
            unchanged,
            unchanged.value.layers.length,
            unchanged.value.size,
          ],
          [
            `packageRootfs again, ${target} changed, previous image given (${compressedAgain(oneChanged.value.layers)} layers compressed)`,
            oneChanged,
            oneChanged.value.layers.length,
            oneChanged.value.size,
          ],
          ["buildah from scratch + mount + `cp -a`", { ms: copied - buildahStart }, 0, 0],
          [
            "`buildah commit --disable-compression=false` (gzip)",
            { ms: gzipEnd - gzipStart },
            1,
            buildahGzipSize,
          ],
          ["`buildah commit` (its default: uncompressed layer)", { ms: buildahEnd - copied }, 1, buildahSize],
          ["buildah cp -a + gzip commit (the baseline)", { ms: baseline }, 1, buildahGzipSize],
        ] as [string, { ms: number }, number, number][]
      ).map(([what, { ms }, layers, size]) => [
        what,
        seconds(ms),
        ratio(ms, baseline),
        layers ? String(layers) : "",
        size ? formatBytes(size) : "",
      ]),
    );
    console.log(packagingTable);
    const rssLine = `Peak RSS of the benchmark process (all packaging above runs in it, streaming): ${formatBytes(peakRss)}.`;
    console.log(rssLine);

    // ---- 2. push -------------------------------------------------------------------------------
    const client = new RegistryClient({ logger });
    const pushOurs = (host: string, repo: string) =>
      timed(() =>
        pushLayout({
          client,
          layout: layoutOf("ours"),
          refName: "1",
          target: parseReference(`${host}/${repo}`),
          tags: ["1"],
          logger,
        }),
      );
    const skopeoCopy = (host: string, repo: string) =>
      timed(() =>
        run(
          "skopeo",
          [
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            `oci:${layoutOf("ours")}:1`,
            `docker://${host}/${repo}:1`,
          ],
          { env },
        ),
      );
    // Each push goes to a registry of its own: skopeo's blob-info cache remembers where it pushed a blob
    // before and mounts it from there, which would make every push after the first nearly free.
    const skopeoRuns: number[] = [];
    const ourRuns: number[] = [];
    const firstHosts: { ours: string; skopeo: string }[] = [];
    let firstPush: Awaited<ReturnType<typeof pushOurs>> | undefined;
    for (let round = 0; round < 3; round++) {
      const hosts = { ours: await freshRegistry(), skopeo: await freshRegistry() };
      firstHosts.push(hosts);
      // Alternate who goes first, so neither always meets a machine warmed by the other.
      const ours = async () => {
        const pushed = await pushOurs(hosts.ours, "os");
        firstPush ??= pushed;
        ourRuns.push(pushed.ms);
      };
      const theirs = async () => {
        skopeoRuns.push((await skopeoCopy(hosts.skopeo, "os")).ms);
      };
      if (round % 2 === 0) {
        await ours();
        await theirs();
      } else {
        await theirs();
        await ours();
      }
    }
    const skopeoDigest = JSON.parse(
      (
        await run("skopeo", ["inspect", "--tls-verify=false", `docker://${firstHosts[0]!.skopeo}/os:1`], {
          env,
        })
      ).stdout,
    ) as { Digest: string };
    const repush = await pushOurs(firstHosts[0]!.ours, "os");
    const skopeoRecopy = await skopeoCopy(firstHosts[0]!.skopeo, "os");
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const pushTable = markdownTable(
      ["what", "runs", "median", "vs skopeo copy", "uploaded"],
      [
        [
          "pushLayout (4 parallel blobs)",
          ourRuns.map(seconds).join(", "),
          seconds(median(ourRuns)),
          ratio(median(ourRuns), median(skopeoRuns)),
          formatBytes(firstPush!.value.uploadedBytes),
        ],
        [
          "skopeo copy oci:… docker://…",
          skopeoRuns.map(seconds).join(", "),
          seconds(median(skopeoRuns)),
          "1.00×",
          "",
        ],
        [
          "pushLayout, unchanged image again",
          seconds(repush.ms),
          seconds(repush.ms),
          ratio(repush.ms, skopeoRecopy.ms),
          `${repush.value.uploadedBytes} bytes (${repush.value.skippedBlobs} blobs skipped)`,
        ],
        [
          "skopeo copy, unchanged image again",
          seconds(skopeoRecopy.ms),
          seconds(skopeoRecopy.ms),
          "1.00×",
          "",
        ],
      ],
    );
    console.log(pushTable);
    console.log(`digests: ours ${firstPush!.value.digest}, skopeo's ${skopeoDigest.Digest}`);

    // ---- 3. update cost ------------------------------------------------------------------------
    const { directoryLinks } = await scanRootfs(rootfs);
    const ownedBytes = new Map<string, number>();
    for (const [name, paths] of lists) {
      let bytes = 0;
      for (const path of paths) {
        const info = await lstat(join(rootfs, canonicalPath(path, directoryLinks))).catch(() => undefined);
        if (info?.isFile()) bytes += info.size;
      }
      ownedBytes.set(name, bytes);
    }
    const bySize = [...ownedBytes]
      .filter(([, b]) => b > 0)
      .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1));
    const pick = (q: number) => bySize[Math.min(bySize.length - 1, Math.floor(q * bySize.length))]!;
    const cases = [
      ["a small package (25th percentile)", pick(0.25)],
      ["a median package", pick(0.5)],
      ["a large package (90th percentile)", pick(0.9)],
      ["the largest package", bySize[bySize.length - 1]!],
    ] as const;
    let chunkedBefore = ours.value;
    let singleBefore = oursSingle.value;
    const updateRows: string[][] = [];
    for (const [index, [label, [name, bytes]]] of cases.entries()) {
      await upgradeInstalledPackage(rootfs, name, `99:bench-${index}`, lists.get(name)!, (p) =>
        canonicalPath(p, directoryLinks),
      );
      const chunked = await packageRootfs({
        rootfs,
        layout: layoutOf(`update-${index}`),
        refName: "1",
        sourceDateEpoch: EPOCH,
        logger,
      });
      const single = await packageRootfs({
        rootfs,
        layout: layoutOf(`update-${index}-single`),
        refName: "1",
        sourceDateEpoch: EPOCH,
        maxLayers: 1,
        logger,
      });
      const c = fetchBytes(chunkedBefore, chunked);
      const s = fetchBytes(singleBefore, single);
      updateRows.push([
        `${label}: ${name} (${formatBytes(bytes)})`,
        `${formatBytes(c.bytes)} in ${c.layers} of ${chunked.layers.length} layers`,
        percent(c.bytes, layerBytes(chunked)),
        formatBytes(s.bytes),
        percent(s.bytes, layerBytes(single)),
      ]);
      console.log(updateRows[updateRows.length - 1]!.join(" | "));
      await rm(layoutOf(`update-${index - 1}`), { recursive: true, force: true });
      await rm(layoutOf(`update-${index - 1}-single`), { recursive: true, force: true });
      chunkedBefore = chunked;
      singleBefore = single;
    }
    const updateTable = markdownTable(
      [
        "upgraded (one at a time, cumulative)",
        "chunked: to fetch",
        "share of image",
        "single layer: to fetch",
        "share of image",
      ],
      updateRows,
    );
    console.log(updateTable);

    const composition = markdownTable(
      ["layer kind", "layers", "compressed"],
      (() => {
        const groups = new Map<string, { n: number; bytes: number }>();
        for (const layer of ours.value.layers) {
          const kind =
            layer.packages.length === 0
              ? "directories / unowned files"
              : layer.packages.length === 1
                ? "one package alone"
                : "bin of small packages";
          const g = groups.get(kind) ?? { n: 0, bytes: 0 };
          groups.set(kind, { n: g.n + 1, bytes: g.bytes + layer.size });
        }
        return [...groups].map(([kind, g]) => [kind, String(g.n), formatBytes(g.bytes)]);
      })(),
    );

    rows.push(
      "# Benchmark: packaging and pushing a root filesystem as an OCI image",
      "",
      "Command: `npm run bench:image` (as root; `-- --synthetic` uses a generated tree instead of the toolbox's).",
      "It prints these tables and rewrites this file. All figures come from one run on one machine;",
      "other jobs shared its cores, so treat small differences as noise.",
      "",
      `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
      `- Tree: ${treeName}; ${lists.size} packages, ${formatBytes(rawBytes)} of file content.`,
      `- Registry: Debian's docker-registry (distribution 2.8) on 127.0.0.1, filesystem storage; a fresh one for each push.`,
      "",
      "## Packaging the same rootfs",
      "",
      packagingTable,
      "",
      rssLine,
      "",
      "A rebuild with the previous image given hashes each layer's tar and takes over the compressed blob of",
      "every layer whose diff_id the previous image has; only changed layers are read a second time and compressed.",
      "",
      "Our gzip is Node's zlib at level 4 (level 6 measured 2.5× slower here for 3 % fewer bytes); each layer is",
      "compressed on the libuv thread pool, several at a time. buildah's gzip is Go's parallel pgzip.",
      "buildah's image is not reproducible (timestamps of the commit) and is one layer; ours is the same",
      "digest every time for the same tree and SOURCE_DATE_EPOCH. Composition of the 64-layer image:",
      "",
      composition,
      "",
      "## Push: pushLayout against skopeo copy (a fresh registry for each push, alternating, 3 runs each)",
      "",
      pushTable,
      "",
      `Target ≤ 1.0× skopeo. skopeo copies the layout's blobs as they are, so both pushes give the same manifest digest (${firstPush!.value.digest === skopeoDigest.Digest ? "checked: equal" : "NOT equal: " + skopeoDigest.Digest}).`,
      "",
      "## Update cost: bytes a host fetches after one package changes",
      "",
      "Each row upgrades one more package (every file it lists gets new content, its md5sums and the",
      "status file change, as dpkg would do), packages the tree again, and counts the compressed layers",
      "the previous image does not have. Target ≤ 5 % for chunked.",
      "",
      updateTable,
      "",
      "A change costs the layer holding the package plus the last layer (the dpkg database, a few hundred KiB",
      "compressed). A package in a bin costs its bin: a small share, within the 5 % target. A package large",
      "enough for a layer of its own costs its own compressed size whatever the chunking, so an update of a",
      "package that is itself more than 5 % of the image (skopeo here) cannot meet the target; a single layer",
      "costs the whole image every time.",
      "",
    );
    if (options.docs) {
      const docs = join(process.cwd(), "docs/benchmarks/image.md");
      await writeFile(docs, rows.join("\n"));
      // The repository's lint runs prettier --check on every file: align the tables as it would.
      await run(process.execPath, [
        join(process.cwd(), "node_modules/prettier/bin/prettier.cjs"),
        "--write",
        docs,
      ]);
      console.log("wrote docs/benchmarks/image.md");
    }
  } finally {
    for (const started of registries) await started.stop();
    // buildah's storage (overlay mounts included) lives under the containers config dir.
    await run("buildah", ["rm", "--all"], { env }).catch(() => {});
    await run("buildah", ["rmi", "--all", "--force"], { env }).catch(() => {});
    await containers.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
