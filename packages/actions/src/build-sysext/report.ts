import { formatBytes, heading, markdownTable } from "@frostyard/kit";
import type { BuildReport } from "@frostyard/mkosi";
import type { PublishedSet, SumsChange } from "@frostyard/sysext";
import { cacheOutput } from "../build-mkosi/report";

/** What build-sysext did after the build, for outputs and the summary. */
export interface SysextRun {
  set?: PublishedSet;
  changes?: SumsChange;
  /** The artifact uploaded, or why none was. */
  artifact?: { id: number; name: string; size: number } | { skipped: string };
}

/** The action's outputs as far as the run got. */
export function outputsOf(report: BuildReport, run: SysextRun): Record<string, string> {
  const set = run.set;
  return {
    "image-version": report.imageVersion,
    sysexts: JSON.stringify(
      (set?.sysexts ?? []).map((s) => ({
        name: s.name,
        version: s.version,
        file: s.file,
        sha256: s.sha256,
        size: s.size,
        ...(s.compressed ? { compressed: s.compressed } : {}),
        ...(s.keyPackage ? { "key-package": s.keyPackage } : {}),
        "packages-added": s.packagesAdded.map((p) => `${p.name}=${p.version}`),
      })),
    ),
    "output-dir": set?.destination ?? "",
    sha256sums: set?.sha256sums ?? "",
    signature: set?.signature ?? "",
    "transfer-dir": set?.transferDirectory ?? "",
    changes: run.changes ? JSON.stringify(run.changes) : "",
    "artifact-id": run.artifact && "id" in run.artifact ? String(run.artifact.id) : "",
    cache: cacheOutput(report.cache),
  };
}

function changesMarkdown(changes: SumsChange): string[] {
  const rows: string[][] = [
    ...changes.added.map((c) => [c.name, "added", c.version]),
    ...changes.updated.map((c) => [c.name, "new version", `${c.from} → ${c.to}`]),
    ...changes.removed.map((c) => [c.name, "removed", c.version]),
    ...changes.rebuilt.map((file) => [file, "rebuilt, same version", "other bytes under the same name"]),
  ];
  return [
    heading("Since the previous SHA256SUMS", 3),
    rows.length > 0 ? markdownTable(["extension", "change", "version"], rows) : "Nothing changed.",
  ];
}

/** The job summary: one row per extension, what changed since the previous set, the artifact, time per stage. */
export function summaryMarkdown(report: BuildReport, run: SysextRun): string {
  const parts = [heading(`build-sysext ${report.failed ? "failed" : report.imageVersion}`)];
  if (report.failed) parts.push(`**Failed:**\n\n\`\`\`\n${report.failed}\n\`\`\``);
  const set = run.set;
  if (set) {
    parts.push(
      markdownTable(
        ["extension", "version", "file", "size", "packages added", "key package"],
        set.sysexts.map((s) => [
          s.name,
          s.version,
          `\`${s.file}\``,
          formatBytes(s.size),
          s.packagesAdded.length > 0 ? String(s.packagesAdded.length) : "—",
          s.keyPackage ?? "— (image version)",
        ]),
      ),
    );
    parts.push(
      `Base: ${set.osVersion} ${set.architecture}; \`SHA256SUMS\` and ${set.transferDirectory ? "sysupdate files" : "no sysupdate files (no base-url)"} in \`${set.destination}\`.`,
    );
  }
  if (run.changes) parts.push(...changesMarkdown(run.changes));
  if (run.artifact) {
    parts.push(
      "id" in run.artifact
        ? `**Artifact** \`${run.artifact.name}\` (id ${run.artifact.id}, ${formatBytes(run.artifact.size)})`
        : `**Artifact:** not uploaded: ${run.artifact.skipped}`,
    );
  }
  parts.push(heading("Time per stage", 3));
  parts.push(report.timings.toMarkdown());
  return parts.join("\n\n");
}
