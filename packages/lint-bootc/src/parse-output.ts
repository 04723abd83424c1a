import type { Finding } from "./findings";

export interface LintCounts {
  /** "Checks passed: N"; null when bootc never printed it (it stopped early). */
  passed: number | null;
  /** "Checks skipped: N"; bootc prints it only when N > 0, so absent means 0. */
  skipped: number;
  /** "Warnings: N"; printed only when N > 0. */
  warnings: number;
  /** N of "error: Linting: Checks failed: N" (fatal lints, plus warnings under --fatal-warnings); 0 when absent. */
  failed: number;
}

export interface ParsedLintOutput {
  /** Exit code 0 and no failed lint. */
  passed: boolean;
  failures: Finding[];
  warnings: Finding[];
  counts: LintCounts;
  /** `error: …` lines other than the "Checks failed" summary: bootc stopped on a runtime error. */
  errors: string[];
  /** Every line we did not recognise (shell traces, --fix notes, future formats), in order; blank lines dropped. */
  unknownLines: string[];
}

const FAILED = /^Failed lint: ([\w.-]+): ?(.*)$/;
const WARNING = /^Lint warning: ([\w.-]+): ?(.*)$/;
const COUNT = /^(Checks passed|Checks skipped|Warnings): (\d+)$/;
const CHECKS_FAILED = /^error: Linting: Checks failed: (\d+)$/;
const ERROR = /^error: (.*)$/;
/** bootc's list truncation: "  ...and 21 more" after five items; older releases: "… (and 5 more)". */
const OMITTED_ITEM = /^\s+\.\.\.and (\d+) more$/;
const OMITTED_INLINE = /\(and (\d+) more\)$/;

/**
 * Parses `bootc container lint` output (stdout and stderr together, in any order) and its exit code.
 *
 * A finding's message runs on while bootc is printing a list: a header ending in ":" starts one, then
 * indented items, and further headers of the same finding (sysusers prints users, then groups) until a
 * blank line or a line that starts something else. A one-line message ends at its line.
 */
export function parseLintOutput(text: string, exitCode: number): ParsedLintOutput {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  const counts: LintCounts = { passed: null, skipped: 0, warnings: 0, failed: 0 };
  const errors: string[] = [];
  const unknownLines: string[] = [];
  let open: { finding: Finding; lines: string[]; list: boolean } | undefined;

  const close = () => {
    if (!open) return;
    open.finding.message = open.lines.join("\n").trimEnd();
    open = undefined;
  };

  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const started = FAILED.exec(line) ?? WARNING.exec(line);
    if (started) {
      close();
      const [, lint = "", first = ""] = started;
      const finding: Finding = { lint, message: "", source: "bootc", omitted: omittedIn(first) };
      (line.startsWith("Failed") ? failures : warnings).push(finding);
      open = { finding, lines: [first], list: first.endsWith(":") };
      if (!open.list) close();
      continue;
    }
    const count = COUNT.exec(line);
    const checksFailed = CHECKS_FAILED.exec(line);
    const error = checksFailed ? null : ERROR.exec(line);
    if (count || checksFailed || error) close();
    if (count) {
      const n = Number(count[2]);
      if (count[1] === "Checks passed") counts.passed = n;
      else if (count[1] === "Checks skipped") counts.skipped = n;
      else counts.warnings = n;
      continue;
    }
    if (checksFailed) {
      counts.failed = Number(checksFailed[1]);
      continue;
    }
    if (error) {
      errors.push(error[1] ?? line);
      continue;
    }
    if (line === "") {
      close();
      continue;
    }
    if (open?.list && (/^\s/.test(line) || line.endsWith(":"))) {
      open.lines.push(line);
      open.finding.omitted += omittedIn(line);
      continue;
    }
    close();
    unknownLines.push(line);
  }
  close();
  return {
    passed: exitCode === 0 && failures.length === 0,
    failures,
    warnings,
    counts,
    errors,
    unknownLines,
  };
}

function omittedIn(line: string): number {
  const match = OMITTED_ITEM.exec(line) ?? OMITTED_INLINE.exec(line);
  return match ? Number(match[1]) : 0;
}
