import { heading, type Annotation } from "@frostyard/kit";
import { outcomesTable, statusCounts, type PinReport } from "@frostyard/pin-digest";
import type { PinDigestInputs } from "./inputs";

/**
 * Annotations for what needs a human: failed lookups and unreadable files (errors), unpinned references
 * (errors in check mode, where they fail the job; warnings otherwise) and references built from
 * variables (warnings: they cannot be checked).
 */
export function annotationsFor(report: PinReport, mode: PinDigestInputs["mode"]): Annotation[] {
  const list: Annotation[] = [];
  for (const o of report.outcomes) {
    const at = { file: o.file, line: o.line, col: o.column };
    if (o.status === "error")
      list.push({ level: "error", title: "pin-digest", message: o.message ?? o.old, ...at });
    else if (o.status === "unpinned") {
      list.push({
        level: mode === "check" ? "error" : "warning",
        title: "unpinned reference",
        message: o.message ?? o.old,
        ...at,
      });
    } else if (o.status === "variable") {
      list.push({ level: "warning", title: "reference with a variable", message: o.message ?? o.old, ...at });
    }
  }
  for (const p of report.problems) {
    list.push({
      level: "error",
      title: "pin-digest: file matched by 'paths' not read",
      message: p.message,
      file: p.file,
      line: p.line,
    });
  }
  return list;
}

/** Why the step fails, or undefined when it succeeds. `paths`: the globs the files were found by. */
export function failureOf(
  report: PinReport,
  mode: PinDigestInputs["mode"],
  paths: readonly string[],
): string | undefined {
  const reasons: string[] = [];
  if (mode === "check" && report.files.length === 0) {
    reasons.push(
      `input 'paths' matched no file (${paths.map((p) => `'${p}'`).join(", ")}): a check that checked nothing cannot pass`,
    );
  }
  const errors = report.outcomes.filter((o) => o.status === "error");
  const unpinned = report.outcomes.filter((o) => o.status === "unpinned");
  if (mode === "check" && unpinned.length > 0) {
    reasons.push(
      `${unpinned.length} reference(s) not pinned: ${unpinned.map((o) => `${o.file}:${o.line} ${o.old}`).join(", ")}`,
    );
  }
  if (errors.length > 0) {
    reasons.push(
      `${errors.length} reference(s) failed: ${errors.map((o) => `${o.file}:${o.line} ${o.message}`).join("; ")}`,
    );
  }
  if (report.problems.length > 0) {
    reasons.push(
      `${report.problems.length} file(s) matched by input 'paths' could not be read: ${report.problems.map((p) => `${p.file}: ${p.message}`).join("; ")}`,
    );
  }
  return reasons.length > 0 ? reasons.join(". ") : undefined;
}

export function summaryMarkdown(
  report: PinReport,
  inputs: Pick<PinDigestInputs, "mode">,
  pullRequest?: { number: number; url: string },
): string {
  const lines = [
    heading(`pin-digest (${inputs.mode})`),
    `${statusCounts(report.outcomes)}; ${report.changedFiles.length} file(s) changed; ` +
      `${report.lookups.images} image and ${report.lookups.actions} action lookup(s).`,
  ];
  if (pullRequest) lines.push(`Pull request: [#${pullRequest.number}](${pullRequest.url})`);
  lines.push(outcomesTable(report.outcomes));
  if (report.problems.length > 0) {
    lines.push(
      "Files matched by `paths` but not read:",
      report.problems.map((p) => `- \`${p.file}\`: ${p.message}`).join("\n"),
    );
  }
  return lines.join("\n\n");
}
