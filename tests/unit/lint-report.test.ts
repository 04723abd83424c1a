import { describe, expect, test } from "vitest";
import type { Finding, LintReport } from "@frostyard/lint-bootc";
import {
  annotationsFor,
  failureOf,
  oneLine,
  summaryMarkdown,
} from "../../packages/actions/src/lint-bootc/report";

const finding = (lint: string, message: string, omitted = 0): Finding => ({
  lint,
  message,
  source: "bootc",
  omitted,
});

function report(overrides: Partial<LintReport>): LintReport {
  return { passed: true, failures: [], warnings: [], warningsFatal: false, notes: [], ...overrides };
}

describe("oneLine", () => {
  test.each([
    ["Not a symlink: var/run", "Not a symlink: var/run"],
    ["Found non-empty /boot:\n  loader\n  vmlinuz", "Found non-empty /boot: loader, vmlinuz"],
    [
      "Found /etc/passwd entry without corresponding systemd sysusers.d:\n  akmods\nFound /etc/group entry without corresponding systemd sysusers.d:\n  akmods\n  power",
      "Found /etc/passwd entry without corresponding systemd sysusers.d: akmods; Found /etc/group entry without corresponding systemd sysusers.d: akmods, power",
    ],
    ["Header:\n  a\n  ...and 21 more", "Header: a, ...and 21 more"],
  ])("%j", (message, expected) => {
    expect(oneLine(message, 500)).toBe(expected);
  });

  test("cuts long text with an ellipsis at the limit", () => {
    expect(oneLine("x".repeat(300), 20)).toBe(`${"x".repeat(19)}…`);
  });
});

describe("annotations and failure", () => {
  const warnings = [finding("var-log", "Found non-empty logfile: /var/log/a.log (and 5 more)", 5)];

  test.each([
    {
      name: "warnings only: they stay warnings and the step passes",
      report: report({ warnings }),
      levels: [["warning", "bootc lint: var-log"]],
      failure: undefined,
    },
    {
      name: "warnings made fatal: error annotations and a failure naming them",
      report: report({ passed: false, warnings, warningsFatal: true }),
      levels: [["error", "bootc lint: var-log"]],
      failure: "1 warning(s), fatal under fatal-warnings: var-log",
    },
    {
      name: "failures: errors titled per rule set",
      report: report({
        passed: false,
        failures: [
          finding("var-run", "Not a symlink: var/run"),
          finding("sysext-layout", "Found top-level entries outside /usr and /opt:\n  /etc"),
        ],
      }),
      levels: [
        ["error", "bootc lint: var-run"],
        ["error", "sysext lint: sysext-layout"],
      ],
      failure: "2 lint(s) failed: var-run, sysext-layout",
    },
  ])("$name", ({ report: r, levels, failure }) => {
    expect(annotationsFor(r).map((a) => [a.level, a.title])).toEqual(levels);
    expect(failureOf(r)).toBe(failure);
  });

  test("a finding bootc truncated says how many items it left out", () => {
    expect(annotationsFor(report({ warnings }))[0]?.message).toBe(
      "Found non-empty logfile: /var/log/a.log (and 5 more)\n(5 more not shown by bootc)",
    );
  });
});

describe("summaryMarkdown", () => {
  test("status, table, full messages, notes, unknown lines and the bootc command", () => {
    const md = summaryMarkdown(
      report({
        passed: false,
        failures: [finding("kernel", "Multiple kernels found in /usr/lib/modules:\n  6.1\n  6.2")],
        warnings: [finding("var-log", "Found non-empty logfiles:\n  /var/log/a.log")],
        notes: [
          "bootc 1.0.8 does not support --skip kernel (findings of those lints are dropped from the report instead)",
        ],
        bootc: {
          version: "bootc 1.0.8",
          argv: ["podman", "run", "--rm", "img", "container", "lint"],
          dropped: [],
          exitCode: 1,
          parsed: {
            passed: false,
            failures: [],
            warnings: [],
            counts: { passed: 10, skipped: 1, warnings: 1, failed: 1 },
            errors: [],
            unknownLines: ["+ bootc container lint"],
          },
        },
      }),
      "ghcr.io/acme/os:1",
    );
    expect(md).toContain("## lint-bootc: ghcr.io/acme/os:1");
    expect(md).toContain(
      "**❌ failed** — 1 failure(s), 1 warning(s). bootc (bootc 1.0.8): 10 passed, 1 skipped, 1 warning(s).",
    );
    expect(md).toContain(
      "| `kernel` | error | bootc | Multiple kernels found in /usr/lib/modules: 6.1, 6.2 |",
    );
    expect(md).toContain("| `var-log` | warning | bootc | Found non-empty logfiles: /var/log/a.log |");
    expect(md).toContain(
      "**kernel** — at most one kernel under /usr/lib/modules\n\n```\nMultiple kernels found in /usr/lib/modules:\n  6.1\n  6.2\n```",
    );
    expect(md).toContain("- bootc 1.0.8 does not support --skip kernel");
    expect(md).toContain("+ bootc container lint");
    expect(md).toContain("podman run --rm img container lint");
  });

  test("a clean pass has no table", () => {
    const md = summaryMarkdown(report({}), "rootfs");
    expect(md).toBe("## lint-bootc: rootfs\n\n**✅ passed** — 0 failure(s), 0 warning(s).");
    expect(md).not.toContain("| lint |");
  });
});
