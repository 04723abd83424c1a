import { readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import {
  runMkosiBuild,
  type BuildDeps,
  type MkosiBuild,
  type MkosiBuildOptions,
  type MkosiImage,
} from "@frostyard/mkosi";
import { convertRawDisk, type DiskArtifact } from "./convert";

/** A project whose image is no disk: refused before anything is built; the entry maps it to `directory`. */
export class MkosiDiskProjectError extends Error {
  constructor(
    readonly image: string,
    readonly format: string,
  ) {
    super(
      `mkosi builds image '${image}' with Format=${format}; the mkosi engine converts a disk: set Format=disk in its [Output] section`,
    );
    this.name = "MkosiDiskProjectError";
  }
}

/**
 * The image whose raw disk is converted: the one the project is about (mkosi lists it last). Subimages may be
 * anything (a base tree, an initrd); the main image must be `Format=disk`, the only format mkosi writes as a
 * partitioned disk with a boot loader.
 */
export function diskImageOf(images: readonly MkosiImage[]): MkosiImage {
  const main = images.at(-1);
  if (!main) throw new Error("mkosi --json summary lists no images");
  if (main.format !== "disk") throw new MkosiDiskProjectError(main.name, main.format);
  return main;
}

/**
 * Why the raw disk is not where mkosi's summary said, naming what is there instead: `CompressOutput=` makes
 * `<Output>.raw.zst` or `.xz`, which qemu-img cannot read.
 */
export function missingDiskProblem(expected: string, siblings: readonly string[]): string {
  const name = basename(expected);
  const near = siblings.filter((s) => s.startsWith(name) && s !== name);
  const compressed = near.find((s) => /\.(zst|xz|gz)$/.test(s));
  if (compressed)
    return `mkosi wrote ${compressed}, a compressed disk qemu-img cannot convert: remove CompressOutput= from the project (the converted types are compressed where the format allows)`;
  return `mkosi wrote no ${name} in ${dirname(expected)}${near.length ? ` (found ${near.join(", ")})` : ""}`;
}

export interface MkosiDiskResult {
  /** The raw disk mkosi wrote (in mkosi's output directory, left there). */
  raw: string;
  artifacts: DiskArtifact[];
  build: MkosiBuild;
}

/**
 * The mkosi engine: builds the project on the shared build path (install, cache, summary, build), refusing a
 * project that makes no disk before the build starts, then converts mkosi's raw disk into each type with
 * qemu-img (checked by `qemu-img info`) into `outputDirectory` as `<name>.<type>`.
 */
export async function buildMkosiDisk(options: {
  build: MkosiBuildOptions;
  deps: BuildDeps;
  types: readonly string[];
  outputDirectory: string;
  name: string;
}): Promise<MkosiDiskResult> {
  const { logger } = options.deps;
  let disk: MkosiImage | undefined;
  const build = await runMkosiBuild(options.build, options.deps, {
    beforeBuild: (plan) => {
      disk = diskImageOf(plan.images);
    },
  });
  // mkosi names the disk `<Output>.raw` and points a symlink `<Output>` at it; the summary gives the latter.
  const named = disk!.outputPath;
  const raw = await realpath(named).catch(() => named);
  const found = await stat(raw).catch(() => undefined);
  if (!found?.isFile()) {
    const siblings = await readdir(dirname(named)).catch(() => [] as string[]);
    throw new Error(missingDiskProblem(named.endsWith(".raw") ? named : `${named}.raw`, siblings));
  }
  logger.info(`mkosi wrote ${raw} (${found.size} bytes)`);
  const artifacts = await build.context.report.timings.time("qemu-img convert", () =>
    convertRawDisk({
      source: raw,
      types: options.types,
      outputDirectory: options.outputDirectory,
      name: options.name,
      logger,
    }),
  );
  return { raw, artifacts, build };
}
