import { readdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { InputError } from "@frostyard/kit";
import { packageRootfs, type PackageOptions, type PackageResult } from "@frostyard/rootfs-oci";
import { isDirectoryFormat } from "../mkosi-summary";
import { manifestLayers, nameMkosiLayout } from "../oci-output";
import { assertNoInputsIgnoredByOciFormat, standardImageMetadata } from "../packaging-rules";
import type { BuildContext } from "./context";
import { ensureWritableDirectory, git } from "./host";
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
  packager?: Packager,
): Promise<void> {
  const { logger, report, imageVersion } = context;
  const { main } = plan;
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
    return;
  }
  const packaged = await report.timings.time("package", () =>
    logger.group("package rootfs as an OCI image", () => {
      const request = packageRequest(context, plan, options);
      const scratch = { sudo: plan.sudo, scratch: plan.workRoot };
      return packager ? packager(request, scratch) : packageRootfs({ ...request, logger });
    }),
  );
  report.ociLayout = packaged.layout;
  report.digest = packaged.manifestDigest;
  report.layers = packaged.layers.map((l) => ({ digest: l.digest, size: l.size, packages: l.packages }));
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
