import { codeBlock, details, heading, markdownTable, type Annotation } from "@frostyard/kit";
import { findRule, type Finding, type LintReport } from "@frostyard/lint-bootc";

/**
 * A message on one line for a table cell: list items joined with ", " after their header, sections
 * with "; ", cut at `max` characters.
 */
export function oneLine(message: string, max = 160): string {
  const sections: string[] = [];
  for (const line of message.split("\n")) {
    if (/^\s/.test(line) && sections.length > 0) {
      const last = sections.length - 1;
      const item = line.trim();
      sections[last] = sections[last]?.endsWith(":")
        ? `${sections[last]} ${item}`
        : `${sections[last]}, ${item}`;
    } else if (line.trim()) sections.push(line.trim());
  }
  const text = sections.join("; ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function titleOf(lint: string): string {
  return `${lint.startsWith("sysext-") ? "sysext" : "bootc"} lint: ${lint}`;
}

/** One annotation per finding: failures as errors, warnings as warnings (as errors when fatal-warnings made them fatal). */
export function annotationsFor(report: LintReport): Annotation[] {
  const annotate = (finding: Finding, level: Annotation["level"]): Annotation => ({
    level,
    title: titleOf(finding.lint),
    message:
      finding.omitted > 0
        ? `${finding.message}\n(${finding.omitted} more not shown by bootc)`
        : finding.message,
  });
  return [
    ...report.failures.map((f) => annotate(f, "error")),
    ...report.warnings.map((f) => annotate(f, report.warningsFatal ? "error" : "warning")),
  ];
}

/** Why the step fails, or undefined when the lint passed. */
export function failureOf(report: LintReport): string | undefined {
  if (report.passed) return undefined;
  const reasons: string[] = [];
  if (report.failures.length > 0) {
    reasons.push(
      `${report.failures.length} lint(s) failed: ${report.failures.map((f) => f.lint).join(", ")}`,
    );
  }
  if (report.warningsFatal) {
    reasons.push(
      `${report.warnings.length} warning(s), fatal under fatal-warnings: ${report.warnings.map((f) => f.lint).join(", ")}`,
    );
  }
  return reasons.join(". ");
}

function rows(findings: readonly Finding[], level: string): string[][] {
  return findings.map((f) => [`\`${f.lint}\``, level, f.source, oneLine(f.message)]);
}

export function summaryMarkdown(report: LintReport, target: string): string {
  const status = report.passed ? "✅ passed" : "❌ failed";
  const parts = [heading(`lint-bootc: ${target}`)];
  const ran: string[] = [];
  if (report.bootc) {
    const c = report.bootc.parsed.counts;
    ran.push(
      `bootc (${report.bootc.version}): ${c.passed ?? "?"} passed, ${c.skipped} skipped, ${c.warnings} warning(s)`,
    );
  }
  if (report.native) {
    ran.push(
      `native checks on \`${report.native.root}\`: ${report.native.passed.length} passed, ${report.native.skipped.length} not run`,
    );
  }
  const counts = `**${status}** — ${report.failures.length} failure(s), ${report.warnings.length} warning(s)${report.warningsFatal ? " (fatal)" : ""}.`;
  parts.push(ran.length > 0 ? `${counts} ${ran.join("; ")}.` : counts);
  const table = [
    ...rows(report.failures, "error"),
    ...rows(report.warnings, report.warningsFatal ? "error (warning)" : "warning"),
  ];
  if (table.length > 0) parts.push(markdownTable(["lint", "level", "source", "finding"], table));
  const all = [...report.failures, ...report.warnings];
  if (all.length > 0) {
    parts.push(
      details(
        "Full messages",
        all
          .map(
            (f) => `**${f.lint}** — ${findRule(f.lint)?.summary ?? "bootc lint"}\n\n${codeBlock(f.message)}`,
          )
          .join("\n\n"),
      ),
    );
  }
  if (report.notes.length > 0) parts.push(report.notes.map((n) => `- ${n}`).join("\n"));
  if (report.bootc && report.bootc.parsed.unknownLines.length > 0) {
    parts.push(
      details(
        "Lines from bootc this action did not recognise",
        codeBlock(report.bootc.parsed.unknownLines.join("\n")),
      ),
    );
  }
  if (report.bootc) parts.push(details("bootc command", codeBlock(report.bootc.argv.join(" "))));
  return parts.join("\n\n");
}
