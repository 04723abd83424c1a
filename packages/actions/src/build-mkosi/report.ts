import { formatBytes, heading, markdownTable } from "@frostyard/kit";
import type { BuildReport, CacheReport, UpdateReport } from "@frostyard/mkosi";
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
    const reused = report.layers.filter((layer) => layer.reused).length;
    const taken = report.update && reused > 0 ? ` (${reused} taken over from the previous image)` : "";
    parts.push(heading(`Layers: ${report.layers.length}, ${formatBytes(total)}${taken}`, 3));
  }
  if (report.update) parts.push(...updateMarkdown(report.update));
  parts.push(heading("Time per stage", 3));
  parts.push(report.timings.toMarkdown());
  return parts.join("\n\n");
}

/** The update cost: one sentence, then the packages that changed version (at most 30 rows). */
export function updateMarkdown(update: UpdateReport): string[] {
  const parts = [
    `**Update cost:** a host on ${update.previous} (\`${update.previousDigest.slice(0, 19)}…\`) downloads ${formatBytes(update.bytes)} in ${update.layers} of ${update.totalLayers} layers (${update.percent} % of the image).`,
  ];
  const packages = update.packages ?? [];
  if (packages.length > 0) {
    const rows = packages.slice(0, 30).map((p) => [p.name, p.from ?? "(new)", p.to ?? "(removed)"]);
    parts.push(markdownTable(["package", "before", "now"], rows));
    if (packages.length > 30) parts.push(`…and ${packages.length - 30} more package change(s).`);
  } else if (update.packages) {
    parts.push("No package changed version.");
  }
  return parts;
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
    ...updateOutputs(report),
  };
}

/** The update-cost outputs, shared with the root action: empty strings without a previous image. */
export function updateOutputs(
  report: BuildReport,
): Record<"update-bytes" | "update-layers" | "update", string> {
  const update = report.update;
  return {
    "update-bytes": update ? String(update.bytes) : "",
    "update-layers": update ? String(update.layers) : "",
    update: update ? JSON.stringify(update) : "",
  };
}
