import { availableParallelism } from "node:os";
import { spawn } from "node:child_process";
import { mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { join } from "node:path";
import { formatCommandLine, type Logger } from "@frostyard/kit";
import { PackageOptionError } from "./errors";
import {
  blobPath,
  hasBlob,
  initLayout,
  isValidRefName,
  OCI_IMAGE_CONFIG,
  writeBlob,
  writeManifest,
  type Descriptor,
} from "@frostyard/oci";
import { compressStream, type Compression } from "./compress";
import type { PreviousLayers } from "./previous";
import { ociArchitectureFromDebian, ownersFromLists, readDpkgArchitecture, readDpkgLists } from "./dpkg";
import { imageConfig, imageManifest, layerMediaType } from "./image-config";
import { DEFAULT_MAX_LAYERS, MAX_MAX_LAYERS, planLayers, type LayerPlan } from "./plan";
import { tarArgs, tarFileList } from "./tar";
import { scanRootfs } from "./walk";

export interface PackageOptions {
  /** The root filesystem directory to package. */
  rootfs: string;
  /** OCI layout directory (created if missing). */
  layout: string;
  /** `org.opencontainers.image.ref.name` in index.json (e.g. the version tag). */
  refName: string;
  /** Merged over the standard ones the caller computes. */
  labels?: Record<string, string>;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Default 64, at most 128. */
  maxLayers?: number;
  /** Default gzip. */
  compression?: "gzip" | "zstd";
  /** Seconds since the epoch; file mtimes are clamped to it and it is the config's `created`. */
  sourceDateEpoch: number;
  /** OCI architecture (amd64, arm64, arm/v7, …) or a Debian one (armhf, ppc64el); default from the rootfs's dpkg, else the host. */
  architecture?: string;
  /** Adds the label `containers.bootc=1`. */
  bootable?: boolean;
  /** An earlier image of the same tree: its unchanged layers are taken over instead of compressed again. */
  previous?: PreviousLayers;
  logger: Logger;
}

export interface PackagedLayer {
  /** Digest of the compressed blob. */
  digest: string;
  /** Digest of the uncompressed tar. */
  diffId: string;
  /** Compressed size in bytes. */
  size: number;
  /** Packages whose files the layer holds (empty for the skeleton and unowned-files layers). */
  packages: string[];
  /** Taken over from the previous image (same diff_id), not compressed again. */
  reused?: boolean;
}

export interface PackageResult {
  manifestDigest: string;
  configDigest: string;
  layers: PackagedLayer[];
  layout: string;
  refName: string;
  /** Manifest + config + layers, in bytes. */
  size: number;
}

const OCI_ARCHITECTURES = [
  "amd64",
  "arm64",
  "arm",
  "386",
  "ppc64le",
  "s390x",
  "riscv64",
  "mips64le",
  "loong64",
];

const HOST_ARCHITECTURES: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
};

/** `amd64`, `arm/v7` or a Debian name (`armhf`) → OCI architecture and variant. */
export function parseArchitecture(value: string): { architecture: string; variant?: string } {
  const debian = ociArchitectureFromDebian(value);
  if (debian && !OCI_ARCHITECTURES.includes(value)) return debian;
  const [architecture = "", variant, extra] = value.split("/");
  if (!OCI_ARCHITECTURES.includes(architecture) || extra !== undefined || variant === "") {
    throw new PackageOptionError(
      "architecture",
      `got ${JSON.stringify(value)}`,
      `an OCI architecture (${OCI_ARCHITECTURES.join(", ")}) with an optional /variant, or a Debian one (armhf, ppc64el, …)`,
    );
  }
  return variant ? { architecture, variant } : { architecture };
}

/** Checks the options that do not need the filesystem; throws a PackageOptionError naming the option. */
export function validatePackageOptions(options: PackageOptions): {
  maxLayers: number;
  compression: Compression;
} {
  const maxLayers = options.maxLayers ?? DEFAULT_MAX_LAYERS;
  if (!Number.isInteger(maxLayers) || maxLayers < 1 || maxLayers > MAX_MAX_LAYERS) {
    throw new PackageOptionError(
      "maxLayers",
      `got ${maxLayers}`,
      `a whole number from 1 to ${MAX_MAX_LAYERS}`,
    );
  }
  const compression = options.compression ?? "gzip";
  if (compression !== "gzip" && compression !== "zstd") {
    throw new PackageOptionError("compression", `got ${JSON.stringify(compression)}`, "gzip or zstd");
  }
  if (!Number.isInteger(options.sourceDateEpoch) || options.sourceDateEpoch < 0) {
    throw new PackageOptionError(
      "sourceDateEpoch",
      `got ${options.sourceDateEpoch}`,
      "whole seconds since 1970-01-01 (SOURCE_DATE_EPOCH), 0 or more",
    );
  }
  if (!isValidRefName(options.refName)) {
    throw new PackageOptionError(
      "refName",
      `${JSON.stringify(options.refName)} is not a valid OCI layout ref name`,
      "letters and digits separated by - . _ : @ + -- or / (e.g. a version tag)",
    );
  }
  for (const [what, record] of [
    ["labels", options.labels],
    ["annotations", options.annotations],
  ] as const) {
    for (const key of Object.keys(record ?? {})) {
      if (key.trim() === "" || /[\s=]/.test(key)) {
        throw new PackageOptionError(
          what,
          `key ${JSON.stringify(key)} is empty or holds whitespace or '='`,
          "KEY=VALUE with a non-empty key",
        );
      }
    }
  }
  return { maxLayers, compression };
}

/** Runs `work` over the items, at most `concurrency` at a time; on a failure starts no more, waits for the running ones, then throws the first error. */
async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (errors.length === 0 && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  return results;
}

interface LayerContext {
  rootfs: string;
  layout: string;
  scratch: string;
  compression: Compression;
  sourceDateEpoch: number;
  logger: Logger;
  /** An earlier image's layers: one whose tar has the same diff_id is taken over, not compressed again. */
  previous?: PreviousLayers;
}

/**
 * Streams one layer's tar (tar's stdout) into `consume`, so no uncompressed copy of the layer ever lands on
 * disk. `scratch` holds the file list. When either side fails the other is stopped: tar is killed when the
 * reader gives up, and a reader is never left waiting, since tar's stdout closes when tar ends.
 */
async function streamLayerTar<T>(
  plan: LayerPlan,
  name: string,
  context: LayerContext,
  consume: (tar: Readable) => Promise<T>,
): Promise<T> {
  const listFile = join(context.scratch, `${name}.list`);
  await writeFile(listFile, tarFileList(plan.paths));
  const args = tarArgs({
    rootfs: context.rootfs,
    listFile,
    output: "-",
    sourceDateEpoch: context.sourceDateEpoch,
  });
  context.logger.debug(formatCommandLine("tar", args));
  try {
    const tar = spawn("tar", args, { stdio: ["ignore", "pipe", "pipe"] });
    const stderr: string[] = [];
    createInterface({ input: tar.stderr }).on("line", (line) => {
      stderr.push(line);
      context.logger.warning(`tar (${name}): ${line}`);
    });
    const archiving = new Promise<void>((resolve, reject) => {
      tar.on("error", (error) =>
        reject(new Error(`tar could not start: ${error.message}`, { cause: error })),
      );
      tar.on("close", (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `tar ${code === null ? `was killed by ${signal}` : `exited with code ${code}`} for ${name}${stderr.length > 0 ? `: ${stderr.slice(-5).join("; ")}` : ""}`,
            ),
          );
      });
    });
    const reading = consume(tar.stdout).catch((error: unknown) => {
      tar.kill();
      throw error;
    });
    const [archived, read] = await Promise.allSettled([archiving, reading]);
    // tar's error explains a short read; report it before the reader's.
    if (archived.status === "rejected") throw archived.reason;
    if (read.status === "rejected") throw read.reason;
    return read.value;
  } finally {
    await rm(listFile, { force: true });
  }
}

/**
 * A layer taken over from the earlier image when its tar hashed to a diff_id that image has (the same
 * bytes): its compressed blob is fetched into the layout when not already there, nothing is compressed.
 * Undefined when the layer is new.
 */
async function takeOverLayer(
  plan: LayerPlan,
  diffId: string,
  context: LayerContext & { previous: PreviousLayers },
): Promise<(PackagedLayer & { plan: LayerPlan }) | undefined> {
  const earlier = context.previous.byDiffId.get(diffId);
  if (!earlier || earlier.mediaType !== layerMediaType(context.compression)) return undefined;
  if (!(await hasBlob(context.layout, earlier.digest)))
    await context.previous.fetchBlob(earlier, context.layout);
  return { digest: earlier.digest, diffId, size: earlier.size, packages: plan.packages, reused: true, plan };
}

/** Run by bash for each layer: its tar (the layer's argv, then its list file last) through sha256sum. */
const HASH_LAYER_SCRIPT =
  'set -o pipefail; list="${@: -1}"; sum=$(tar "${@:1:$#-1}" --files-from="$list" | sha256sum) || exit 255; printf \'%s %s\\n\' "$list" "${sum%% *}"';

/**
 * Every layer's diff_id (the sha256 of its tar), from one helper process: xargs runs `tar | sha256sum` for
 * each layer, HASHING_CONCURRENCY at a time. A spawn per layer from this process blocks its event loop until
 * the child has started, while the other tars wait for their pipes to be read; through xargs the tars'
 * bytes never pass through Node (docs/benchmarks/build-mkosi.md). A failing tar stops the rest (exit 255)
 * and its message is in the error.
 */
export async function hashLayerTars(
  plans: readonly LayerPlan[],
  context: { rootfs: string; scratch: string; sourceDateEpoch: number },
): Promise<string[]> {
  const lists: string[] = [];
  try {
    for (const [index, plan] of plans.entries()) {
      const list = join(context.scratch, `hash-${index}.list`);
      await writeFile(list, tarFileList(plan.paths));
      lists.push(list);
    }
    const args = tarArgs({ ...context, listFile: "", output: "-" }).filter(
      (arg) => !arg.startsWith("--files-from="),
    );
    const stdout = await new Promise<string>((resolve, reject) => {
      const xargs = spawn(
        "xargs",
        [
          "--null",
          `--max-procs=${HASHING_CONCURRENCY}`,
          "--max-args=1",
          "bash",
          "-c",
          HASH_LAYER_SCRIPT,
          "hash-layer",
          ...args,
        ],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
      const out: Buffer[] = [];
      const err: string[] = [];
      xargs.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      createInterface({ input: xargs.stderr }).on("line", (line) => err.push(line));
      xargs.on("error", (error) =>
        reject(new Error(`xargs could not start: ${error.message}`, { cause: error })),
      );
      xargs.on("close", (code, signal) => {
        if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
        else
          reject(
            new Error(
              `hashing the layers' tars failed (xargs ${code === null ? `killed by ${signal}` : `exited with code ${code}`})${err.length > 0 ? `: ${err.slice(-5).join("; ")}` : ""}`,
            ),
          );
      });
      xargs.stdin.end(Buffer.from(lists.map((list) => `${list}\0`).join("")));
    });
    const byList = new Map<string, string>();
    for (const line of stdout.split("\n")) {
      const match = /^(.*) ([0-9a-f]{64})$/.exec(line);
      if (match) byList.set(match[1]!, `sha256:${match[2]!}`);
    }
    return lists.map((list, index) => {
      const diffId = byList.get(list);
      if (!diffId) throw new Error(`hashing the layers' tars gave no digest for layer ${index + 1}`);
      return diffId;
    });
  } finally {
    await Promise.all(lists.map((list) => rm(list, { force: true })));
  }
}

/**
 * One layer tarred, hashed and compressed into the layout (CPU bound: as many at once as there are cores).
 * `expectedDiffId` is what a first hashing pass read: the same tree tars to the same bytes, so a difference
 * means the rootfs moved under us and neither hash can be trusted.
 */
export async function buildLayer(
  plan: LayerPlan,
  index: number,
  context: LayerContext,
  expectedDiffId?: string,
): Promise<PackagedLayer & { plan: LayerPlan }> {
  const blobTemp = join(context.layout, "blobs", "sha256", `.layer-${process.pid}-${index}-${Date.now()}`);
  try {
    const blob = await streamLayerTar(plan, `layer-${index}`, context, (tar) =>
      compressStream(tar, blobTemp, context.compression),
    );
    if (expectedDiffId !== undefined && expectedDiffId !== blob.diffId) {
      throw new Error(
        `${context.rootfs} changed while layer ${index + 1} was packaged (${expectedDiffId} then ${blob.diffId}); package a tree nothing writes to`,
      );
    }
    await rename(blobTemp, blobPath(context.layout, blob.digest));
    return { ...blob, packages: plan.packages, reused: false, plan };
  } finally {
    await rm(blobTemp, { force: true });
  }
}

/** Every layer: with an earlier image, first all hashed (many at once) and the unchanged ones taken over. */
async function buildLayers(
  plans: readonly LayerPlan[],
  context: LayerContext,
): Promise<(PackagedLayer & { plan: LayerPlan })[]> {
  const cores = Math.max(1, Math.min(4, availableParallelism()));
  const { previous } = context;
  if (!previous) return runPool(plans, cores, (plan, index) => buildLayer(plan, index, context));
  const diffIds = await hashLayerTars(plans, context);
  const takenOver = await runPool(plans, HASHING_CONCURRENCY, (plan, index) =>
    takeOverLayer(plan, diffIds[index]!, { ...context, previous }),
  );
  return runPool(plans, cores, async (plan, index) => {
    return takenOver[index] ?? buildLayer(plan, index, context, diffIds[index]);
  });
}

/**
 * Hashing a layer is tar and sha256, bound by I/O and process starts rather than CPU, so more run at once
 * than there are cores (measured under load: 3.1–7 s at 8 against 6.7 s at 2 for the 323 MiB toolbox tree;
 * the spread is the machine's). Also how many blobs of unchanged layers are fetched at once.
 */
const HASHING_CONCURRENCY = 8;

/**
 * Packages a root filesystem as an OCI image in a layout directory: reproducible GNU tar layers
 * (numeric owners, SUID bits, hardlinks, every xattr), chunked by the Debian package owning each
 * file, a config with the labels, and a manifest recorded under `refName`.
 */
export async function packageRootfs(options: PackageOptions): Promise<PackageResult> {
  const { maxLayers, compression } = validatePackageOptions(options);
  const { rootfs, layout, logger } = options;
  const info = await stat(rootfs).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PackageOptionError(
      "rootfs",
      `${rootfs} ${info ? "is not a directory" : "does not exist"}`,
      "the directory of a built root filesystem",
    );
  }
  let platform: { architecture: string; variant?: string };
  if (options.architecture !== undefined) {
    platform = parseArchitecture(options.architecture);
  } else {
    const debian = await readDpkgArchitecture(rootfs);
    const fromDpkg = debian === undefined ? undefined : ociArchitectureFromDebian(debian);
    const host = HOST_ARCHITECTURES[process.arch];
    if (fromDpkg) platform = fromDpkg;
    else if (host) platform = { architecture: host };
    else
      throw new PackageOptionError(
        "architecture",
        `the rootfs names none and the host's (${process.arch}) has no OCI name`,
        OCI_ARCHITECTURES.join(", "),
      );
  }

  const scan = await scanRootfs(rootfs);
  if (scan.skipped.length > 0) {
    logger.info(
      `left out ${scan.skipped.length} socket(s), which an image cannot hold: ${scan.skipped.slice(0, 5).join(", ")}`,
    );
  }
  const lists = await readDpkgLists(rootfs);
  if (lists.size === 0 && maxLayers > 1) {
    logger.warning(
      `${rootfs} has no dpkg database (var/lib/dpkg/info/*.list): files cannot be grouped by package, so they go in one layer after the directories`,
    );
  }
  const owners = ownersFromLists(lists, scan.directoryLinks);
  const plans = planLayers(scan.entries, owners, maxLayers);
  logger.info(
    `${scan.entries.length} paths from ${lists.size} packages in ${plans.length} layers (max ${maxLayers}), ${compression}`,
  );

  await initLayout(layout);
  const scratch = await mkdtemp(join(layout, ".rootfs-oci-"));
  let built: (PackagedLayer & { plan: LayerPlan })[];
  try {
    const context: LayerContext = {
      rootfs,
      layout,
      scratch,
      compression,
      sourceDateEpoch: options.sourceDateEpoch,
      logger,
      ...(options.previous ? { previous: options.previous } : {}),
    };
    built = await buildLayers(plans, context);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  const config = imageConfig({
    ...platform,
    sourceDateEpoch: options.sourceDateEpoch,
    labels: options.labels ?? {},
    bootable: options.bootable ?? false,
    layers: built,
  });
  const configBlob = await writeBlob(layout, Buffer.from(JSON.stringify(config)));
  const mediaType = layerMediaType(compression);
  const manifest = imageManifest({
    config: { mediaType: OCI_IMAGE_CONFIG, ...configBlob },
    layers: built.map((l): Descriptor => ({ mediaType, digest: l.digest, size: l.size })),
    annotations: options.annotations ?? {},
  });
  const descriptor = await writeManifest(layout, manifest, { refName: options.refName });
  const layers = built.map(({ digest, diffId, size, packages, reused }) => ({
    digest,
    diffId,
    size,
    packages,
    reused,
  }));
  if (options.previous) {
    const reused = layers.filter((l) => l.reused);
    logger.info(
      `${reused.length} of ${layers.length} layers unchanged since ${options.previous.source}: taken over, not compressed again`,
    );
  }
  const size = descriptor.size + configBlob.size + layers.reduce((sum, l) => sum + l.size, 0);
  logger.info(
    `packaged ${rootfs} as ${descriptor.digest} (${layers.length} layers, ${size} bytes) in ${layout} as ${options.refName}`,
  );
  return {
    manifestDigest: descriptor.digest,
    configDigest: configBlob.digest,
    layers,
    layout,
    refName: options.refName,
    size,
  };
}
