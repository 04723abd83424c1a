import { stat } from "node:fs/promises";
import { InputError } from "@frostyard/kit";
import { BOOTC_LINTS, findRule, SYSEXT_LINTS } from "./catalog";
import type { Finding } from "./findings";
import { BOOTC_NATIVE_CHECKS, type NativeCheck } from "./native-bootc";
import { sysextChecks, type SysextOptions } from "./sysext";

export interface NativeOptions {
  /** Rule names not to run. */
  skip?: readonly string[];
  /** Check a system extension with the sysext rules instead of a bootable root with bootc's. */
  sysext?: SysextOptions;
  /** Names the root in errors (the input it came from); default "rootfs". */
  input?: string;
}

export interface NativeReport {
  root: string;
  failures: Finding[];
  warnings: Finding[];
  /** Rules that ran and passed. */
  passed: string[];
  /** Rules not run, with why. */
  skipped: { lint: string; reason: string }[];
}

/**
 * Runs the native rules on a root filesystem directory: bootc's statically checkable lints (under
 * bootc's names, with bootc's fatal/warning split), or the sysext rules. A root is an "alternative"
 * root to bootc, so `buildah-injected` runs and running-root-only lints do not.
 */
export async function runNativeChecks(root: string, options: NativeOptions = {}): Promise<NativeReport> {
  const input = options.input ?? "rootfs";
  try {
    if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new InputError(
      input,
      `'${root}' cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      "a directory holding a root filesystem",
    );
  }
  const skip = new Set(options.skip ?? []);
  const report: NativeReport = { root, failures: [], warnings: [], passed: [], skipped: [] };
  const rules = options.sysext ? SYSEXT_LINTS : BOOTC_LINTS;
  const checks: Record<string, NativeCheck> = options.sysext
    ? sysextChecks(options.sysext)
    : BOOTC_NATIVE_CHECKS;
  for (const rule of rules) {
    if (skip.has(rule.name)) {
      report.skipped.push({ lint: rule.name, reason: "skipped on request" });
      continue;
    }
    const check = checks[rule.name];
    if (!check || rule.rootType === "running") {
      report.skipped.push({ lint: rule.name, reason: "only bootc inside the image can check it" });
      continue;
    }
    const message = await check(root);
    if (message === undefined) {
      report.passed.push(rule.name);
      continue;
    }
    const finding: Finding = { lint: rule.name, message, source: "native", omitted: 0 };
    (findRule(rule.name)?.severity === "fatal" ? report.failures : report.warnings).push(finding);
  }
  return report;
}
