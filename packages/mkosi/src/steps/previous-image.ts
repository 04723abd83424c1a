import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { addManifest, blobPath, initLayout, isImageManifest, parseManifest, readBlob } from "@frostyard/oci";
import { previousFromLayout, shareBlob, type PreviousLayers } from "@frostyard/rootfs-oci";
import type { BuildReport } from "../build-report";
import { manifestPackages, packageChanges, updateCost } from "../update-cost";
import type { BuildContext } from "./context";
import type { PlannedBuild } from "./summary";

/** Inside mkosi's cache directory (saved and restored with it): the last image packaged, for the next build. */
export const KEPT_IMAGE_DIRECTORY = "frostyard-previous-image";
const KEPT_REF = "previous";
const KEPT_MANIFEST = "mkosi.manifest";

function keptDirectory(plan: PlannedBuild): string {
  return join(plan.cacheDirectory, KEPT_IMAGE_DIRECTORY);
}

/** The image the build cache kept from the last build, if the restored cache holds one. */
export async function keptPreviousImage(plan: PlannedBuild): Promise<PreviousLayers | undefined> {
  const dir = keptDirectory(plan);
  if (!existsSync(join(dir, "oci-layout"))) return undefined;
  const previous = await previousFromLayout(dir, KEPT_REF);
  return { ...previous, source: `the last build kept in the build cache` };
}

/**
 * Keeps what was just packaged in mkosi's cache directory as a one-image layout (blobs hardlinked where the
 * filesystem allows), with mkosi's package manifest, so the next build takes unchanged layers over and
 * reports which packages changed even when nothing was pushed.
 */
export async function keepForNextBuild(
  context: BuildContext,
  plan: PlannedBuild,
  layout: string,
  digest: string,
): Promise<void> {
  const dir = keptDirectory(plan);
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await initLayout(partial);
  const manifestBytes = await readBlob(layout, digest);
  const { mediaType, manifest } = parseManifest(manifestBytes);
  if (!isImageManifest(manifest)) throw new Error(`${layout}: ${digest} is not an image manifest`);
  for (const blob of [{ digest }, manifest.config, ...manifest.layers]) {
    if (!existsSync(blobPath(partial, blob.digest))) await shareBlob(layout, partial, blob.digest);
  }
  await addManifest(partial, { mediaType, digest, size: manifestBytes.length }, { refName: KEPT_REF });
  if (context.report.mkosiManifest)
    await copyFile(context.report.mkosiManifest, join(partial, KEPT_MANIFEST));
  await mkdir(plan.cacheDirectory, { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
}

/** The update cost against the previous image, with package version changes when both manifests are at hand. */
export async function reportUpdateCost(
  report: BuildReport,
  previous: PreviousLayers,
  previousManifest: string | undefined,
): Promise<void> {
  if (!report.layers) return;
  report.update = updateCost(previous, report.layers);
  if (previousManifest && report.mkosiManifest) {
    const before = manifestPackages(previousManifest);
    const after = manifestPackages(await readFile(report.mkosiManifest, "utf8"));
    report.update.packages = packageChanges(before, after);
  }
}

/** mkosi's package manifest of the kept image, when the cache kept one. */
export async function keptManifest(plan: PlannedBuild): Promise<string | undefined> {
  return readFile(join(keptDirectory(plan), KEPT_MANIFEST), "utf8").catch(() => undefined);
}
