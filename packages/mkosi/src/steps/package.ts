import { readdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { InputError } from "@frostyard/kit";
import {
  packageRootfs,
  type PackageOptions,
  type PackageResult,
  type PreviousLayers,
} from "@frostyard/rootfs-oci";
import { ociArchitectureOf } from "../architecture";
import { isDirectoryFormat } from "../mkosi-summary";
import { manifestLayers, nameMkosiLayout } from "../oci-output";
import { assertNoInputsIgnoredByOciFormat, standardImageMetadata } from "../packaging-rules";
import type { BuildContext } from "./context";
import { ensureWritableDirectory, git } from "./host";
import { keepForNextBuild, keptManifest, keptPreviousImage, reportUpdateCost } from "./previous-image";
import type { PlannedBuild } from "./summary";

/** How the main image becomes an OCI image: build-mkosi's packaging inputs, parsed. */
export interface PackagingOptions {
  /** Package the main image as an OCI layout (a Format=directory tree is packaged, a Format=oci one named). */
  package: boolean;
  /** The image's title label when mkosi's ImageId= gives none (e.g. the last part of the repository). */
  title?: string;
  labels: Map<string, string>;
  annotations: Map<string, string>;
  bootable: boolean;
  maxLayers: number;
  compression: "gzip" | "zstd";
  /** Where the layout goes; default `<output>.oci` beside mkosi's output. */
  ociLayout?: string;
  /** Of bootable, max-layers, compression: those the user gave (a Format=oci build refuses them). */
  explicitPackagingInputs?: readonly string[];
  /**
   * Compare with, and take unchanged layers over from, the previous image (from `PackagingDeps.previousImage`,
   * else the one the build cache kept), and keep this image in the cache for the next build. Default true.
   */
  reuseLayers?: boolean;
}

export interface PackagingDeps {
  packager?: Packager;
  /** Where the previous image is looked for first (e.g. the registry being pushed to); then the build cache. */
  previousImage?: () => Promise<PreviousLayers | undefined>;
}

export type PackageRequestOptions = Omit<PackageOptions, "logger">;

/**
 * Packages a Format=directory rootfs; default in this process. An action bundle passes one that runs as root
 * in a child process when mkosi ran under sudo (the rootfs then holds root-only files).
 */
export type Packager = (
  options: PackageRequestOptions,
  context: { sudo: boolean; scratch: string },
) => Promise<PackageResult>;

/** Before building: refuse what packaging could not honour, so nothing fails after an hour of mkosi. */
export async function checkPackaging(
  context: BuildContext,
  plan: PlannedBuild,
  options: PackagingOptions,
): Promise<void> {
  const { main } = plan;
  if (main.format === "oci") {
    assertNoInputsIgnoredByOciFormat(options);
    return;
  }
  if (options.package && !isDirectoryFormat(main.format)) {
    throw new Error(
      `packaging was asked for but the main image's Format=${main.format} is neither a directory tree nor an OCI layout; build-mkosi packages Format=directory and pushes Format=oci`,
    );
  }
  if (options.ociLayout) await checkLayoutPath(resolve(options.ociLayout), context, plan.sudo);
}

/** Package: mkosi's own OCI layout named by the image version, or the rootfs as a chunked, reproducible one. */
export async function packageStep(
  context: BuildContext,
  plan: PlannedBuild,
  options: PackagingOptions,
  deps: PackagingDeps = {},
): Promise<void> {
  const { logger, report, imageVersion } = context;
  const { main } = plan;
  const reuse = options.reuseLayers ?? true;
  const previous = reuse
    ? await report.timings.time("previous image", () => findPreviousImage(context, plan, deps))
    : undefined;
  if (main.format === "oci") {
    // mkosi made the OCI layout itself: name its manifest (the image version) and push it as it is.
    const layout = main.outputPath;
    const manifest = await report.timings.time("package", () =>
      nameMkosiLayout(layout, imageVersion, { sudo: plan.sudo, scratch: plan.workRoot, logger }),
    );
    const layers = await manifestLayers(layout, manifest.digest);
    report.ociLayout = layout;
    report.digest = manifest.digest;
    report.layers = layers.map((l) => ({ ...l, packages: [] }));
    logger.info(`mkosi's OCI layout ${layout}: ${manifest.digest}, ${layers.length} layer(s)`);
    if (previous) await reportUpdate(context, previous.layers, undefined);
    return;
  }
  const packaged = await report.timings.time("package", () =>
    logger.group("package rootfs as an OCI image", () => {
      const request = {
        ...packageRequest(context, plan, options),
        ...(previous ? { previous: previous.layers } : {}),
      };
      const scratch = { sudo: plan.sudo, scratch: plan.workRoot };
      return deps.packager ? deps.packager(request, scratch) : packageRootfs({ ...request, logger });
    }),
  );
  report.ociLayout = packaged.layout;
  report.digest = packaged.manifestDigest;
  report.layers = packaged.layers.map((l) => ({
    digest: l.digest,
    size: l.size,
    packages: l.packages,
    ...(previous ? { reused: l.reused ?? false } : {}),
  }));
  if (previous) await reportUpdate(context, previous.layers, previous.manifest);
  if (reuse && context.options.cache) {
    await report.timings
      .time("keep image for the next build", () =>
        keepForNextBuild(context, plan, packaged.layout, packaged.manifestDigest),
      )
      .catch((error: unknown) =>
        logger.warning(
          `Keeping this image for the next build's layer reuse failed: ${(error as Error).message}`,
        ),
      );
  }
}

/** The previous image: where the caller looks first (the registry), else the one the build cache kept. */
async function findPreviousImage(
  context: BuildContext,
  plan: PlannedBuild,
  deps: PackagingDeps,
): Promise<{ layers: PreviousLayers; manifest?: string } | undefined> {
  const fromCaller = await deps.previousImage?.();
  if (fromCaller) {
    context.logger.info(`Previous image: ${fromCaller.source} (${fromCaller.digest})`);
    return { layers: fromCaller };
  }
  const kept = await keptPreviousImage(plan).catch((error: unknown) => {
    context.logger.warning(`The build cache's previous image cannot be read: ${(error as Error).message}`);
    return undefined;
  });
  if (!kept) {
    context.logger.info("No previous image: every layer is compressed, and no update cost can be given");
    return undefined;
  }
  context.logger.info(`Previous image: ${kept.source} (${kept.digest})`);
  const manifest = await keptManifest(plan);
  return { layers: kept, ...(manifest ? { manifest } : {}) };
}

async function reportUpdate(
  context: BuildContext,
  previous: PreviousLayers,
  previousManifest: string | undefined,
): Promise<void> {
  await reportUpdateCost(context.report, previous, previousManifest);
  const update = context.report.update;
  if (update) {
    context.logger.info(
      `Update cost: a host on ${update.previous} downloads ${update.bytes} bytes in ${update.layers} of ${update.totalLayers} layers (${update.percent} % of the image)`,
    );
  }
}

function packageRequest(
  context: BuildContext,
  plan: PlannedBuild,
  options: PackagingOptions,
): PackageRequestOptions {
  const { env, imageVersion } = context;
  const { main, directory, epoch } = plan;
  const metadata = standardImageMetadata({
    title: main.imageId ?? options.title,
    version: imageVersion,
    created: new Date(epoch * 1000).toISOString(),
    revision: env.GITHUB_SHA || git(directory, env, "rev-parse", "HEAD"),
    serverUrl: env.GITHUB_SERVER_URL,
    repository: env.GITHUB_REPOSITORY,
    gitRemote: env.GITHUB_REPOSITORY ? undefined : git(directory, env, "remote", "get-url", "origin"),
  });
  const architecture = ociArchitectureOf(main.architecture);
  return {
    rootfs: main.outputPath,
    layout: options.ociLayout ? resolve(options.ociLayout) : `${main.outputPath}.oci`,
    refName: imageVersion,
    labels: { ...metadata, ...Object.fromEntries(options.labels) },
    annotations: { ...metadata, ...Object.fromEntries(options.annotations) },
    maxLayers: options.maxLayers,
    compression: options.compression,
    sourceDateEpoch: epoch,
    bootable: options.bootable,
    // What mkosi built for, not what this machine is: a tree for another architecture may have no dpkg to ask.
    ...(architecture ? { architecture } : {}),
  };
}

/** `oci-layout` before an hour of building: a directory we may write that is empty or already a layout. */
async function checkLayoutPath(path: string, context: BuildContext, sudo: boolean): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  const accepted = "a new or empty directory, or an existing OCI image layout, that this job may write";
  if (info && !info.isDirectory())
    throw new InputError("oci-layout", `'${path}' exists and is not a directory`, accepted);
  if (info) {
    const entries: string[] = await readdir(path).catch(() => []);
    if (entries.length > 0 && !entries.includes("oci-layout"))
      throw new InputError(
        "oci-layout",
        `'${path}' holds other files (${entries.slice(0, 3).join(", ")}) and no oci-layout file`,
        accepted,
      );
  }
  await ensureWritableDirectory(path, "oci-layout", { sudo, uid: context.uid, logger: context.logger });
}
