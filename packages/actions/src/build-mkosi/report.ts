import { formatBytes, heading, markdownTable } from "@frostyard/kit";
import type { BuildReport, CacheReport } from "@frostyard/mkosi";
import type { PublishedImage } from "@frostyard/publish";

export { cacheOutcome, type BuildReport, type CacheReport, type LayerReport } from "@frostyard/mkosi";

function cacheLine(cache: CacheReport): string {
  if (!cache.enabled) return "off (`cache: false`)";
  const size = cache.restoredBytes !== undefined ? `, ${formatBytes(cache.restoredBytes)}` : "";
  switch (cache.outcome) {
    case "hit":
      return `hit \`${cache.key}\`${size}`;
    case "partial":
      return `partial: restored \`${cache.restoredKey}\` for \`${cache.key}\`${size}`;
    default:
      return `miss \`${cache.key ?? "?"}\``;
  }
}

/** The job summary: what was built, sizes, the image, cache, free space and time per stage. */
export function summaryMarkdown(report: BuildReport, pushed?: PublishedImage): string {
  const parts: string[] = [heading(`build-mkosi ${report.failed ? "failed" : report.imageVersion}`)];
  if (report.failed) parts.push(`**Failed:** ${report.failed.split("\n")[0]}`);
  const facts: [string, string][] = [
    ["mkosi", report.mkosiVersion],
    ["profiles", report.profiles.length > 0 ? report.profiles.join(", ") : "(none)"],
    ["image version", report.imageVersion],
    ["cache", cacheLine(report.cache)],
  ];
  if (report.workVolume) {
    const free = (n?: number) => (n === undefined ? "?" : formatBytes(n));
    facts.push([
      "free space",
      `${report.workVolume}: ${free(report.freeBefore)} before, ${free(report.freeAfter)} after`,
    ]);
  }
  if (report.digest) facts.push(["digest", `\`${report.digest}\``]);
  if (pushed) {
    facts.push(["pushed", `\`${pushed.image}\` as ${pushed.tags.map((t) => `\`${t}\``).join(", ")}`]);
    facts.push([
      "uploaded",
      `${formatBytes(pushed.uploadedBytes)} (${pushed.skippedBlobs} blob(s) already there)`,
    ]);
  }
  if (report.ociLayout) facts.push(["OCI layout", `\`${report.ociLayout}\``]);
  parts.push(markdownTable(["", ""], facts));
  if (report.images.length > 0) {
    parts.push(heading("Images", 3));
    parts.push(
      markdownTable(
        ["image", "format", "distribution", "output", "size"],
        report.images.map((image) => [
          image.name,
          image.format,
          `${image.distribution} ${image.release} ${image.architecture}`,
          `\`${image.outputPath}\``,
          report.sizes.has(image.outputPath) ? formatBytes(report.sizes.get(image.outputPath)!) : "—",
        ]),
      ),
    );
  }
  if (report.layers && report.layers.length > 0) {
    const total = report.layers.reduce((sum, layer) => sum + layer.size, 0);
    parts.push(heading(`Layers: ${report.layers.length}, ${formatBytes(total)}`, 3));
  }
  parts.push(heading("Time per stage", 3));
  parts.push(report.timings.toMarkdown());
  return parts.join("\n\n");
}

/** The post step's addition to the job summary: what became of mkosi's cache. */
export function savedCacheMarkdown(
  key: string,
  outcome: "saved" | "hit" | "empty",
  savedBytes: number | undefined,
): string {
  switch (outcome) {
    case "saved":
      return `**Cache saved** (post step): \`${key}\`, ${savedBytes === undefined ? "?" : formatBytes(savedBytes)}`;
    case "hit":
      return `**Cache** (post step): \`${key}\` was restored exactly; nothing to save`;
    case "empty":
      return `**Cache** (post step): mkosi's cache directory was empty; nothing saved for \`${key}\``;
  }
}

/** The `cache` output: what the restore found, for a later step or job to check. */
export function cacheOutput(cache: CacheReport): "hit" | "partial" | "miss" | "off" {
  if (!cache.enabled) return "off";
  return cache.outcome ?? "miss";
}

/**
 * The action's outputs as far as the run got: a failed push still names the packaged layout and its digest.
 * `tags` are those the image is (to be) pushed under once packaged; the registry's after a push.
 */
export function outputsOf(
  report: BuildReport,
  tags: readonly string[],
  pushed?: PublishedImage,
): Record<string, string> {
  return {
    "image-version": report.imageVersion,
    rootfs: report.rootfs ?? "",
    "mkosi-manifest": report.mkosiManifest ?? "",
    digest: pushed?.digest ?? report.digest ?? "",
    image: pushed?.image ?? "",
    tags: JSON.stringify(pushed?.tags ?? (report.digest ? tags : [])),
    "oci-layout": report.ociLayout ?? "",
    layers: JSON.stringify(report.layers ?? []),
    cache: cacheOutput(report.cache),
  };
}
