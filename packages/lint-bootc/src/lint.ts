import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@frostyard/kit";
import type { Finding } from "./findings";
import { describeSource, type ImageSource } from "./image-source";
import { runNativeChecks, type NativeReport } from "./native";
import type { ParsedLintOutput } from "./parse-output";
import { exportRootfs, prepareImage, probeBootc, runBootcLint, type PodmanOptions } from "./podman";
import type { SysextOptions } from "./sysext";

export const ENGINES = ["auto", "bootc", "native"] as const;
export type Engine = (typeof ENGINES)[number];

export interface LintOptions {
  image?: ImageSource;
  rootfs?: string;
  engine: Engine;
  fatalWarnings: boolean;
  skip: readonly string[];
  /** Ask bootc for complete lists; default true. */
  noTruncate?: boolean;
  /** Lint as a system extension (native sysext rules) instead of a bootable root. */
  sysext?: SysextOptions;
  logger: Logger;
  /** Environment for podman (containers.conf, storage.conf, auth file). */
  podmanEnv?: Record<string, string>;
  podman?: string;
  /** Where an image is unpacked for native checks; default the system temp dir. */
  workDir?: string;
}

export interface BootcSection {
  version: string;
  argv: string[];
  dropped: string[];
  exitCode: number;
  parsed: ParsedLintOutput;
}

export interface LintReport {
  passed: boolean;
  failures: Finding[];
  /** Warnings; they fail the lint only under fatal-warnings (`warningsFatal`). */
  warnings: Finding[];
  warningsFatal: boolean;
  /** Set when bootc ran inside the image. */
  bootc?: BootcSection;
  /** Set when native checks ran; `root` is the rootfs input or "<image>" for an unpacked image. */
  native?: NativeReport;
  /** Things the user should know: no bootc in the image, flags dropped, findings merged. */
  notes: string[];
}

/** bootc's own runtime errors ("Unexpected runtime error running lint kernel: …") as failures of that lint. */
export function runtimeErrorFindings(
  parsed: ParsedLintOutput,
  exitCode: number,
  fatalWarnings: boolean,
): Finding[] {
  if (exitCode === 0 || parsed.failures.length > 0) return [];
  if (parsed.errors.length === 0 && fatalWarnings && parsed.warnings.length > 0) return [];
  const messages =
    parsed.errors.length > 0
      ? parsed.errors
      : [`bootc container lint exited with code ${exitCode} without naming a failed lint`];
  return messages.map((message) => ({
    lint: /running lint ([\w-]+)/.exec(message)?.[1] ?? "bootc",
    message,
    source: "bootc" as const,
    omitted: 0,
  }));
}

/**
 * Merges bootc's findings with native ones: the union, where a lint both report appears once, as bootc
 * worded it. Findings for skipped lints are dropped (the bootc inside may not have been able to skip them).
 */
export function mergeFindings(
  bootc: { failures: Finding[]; warnings: Finding[] } | undefined,
  native: { failures: Finding[]; warnings: Finding[] } | undefined,
  skip: readonly string[],
): { failures: Finding[]; warnings: Finding[] } {
  const skipped = new Set(skip);
  const byBootc = new Set([...(bootc?.failures ?? []), ...(bootc?.warnings ?? [])].map((f) => f.lint));
  const keepNative = (f: Finding) => !byBootc.has(f.lint);
  const failures = [...(bootc?.failures ?? []), ...(native?.failures.filter(keepNative) ?? [])];
  const warnings = [...(bootc?.warnings ?? []), ...(native?.warnings.filter(keepNative) ?? [])];
  return {
    failures: failures.filter((f) => !skipped.has(f.lint)),
    warnings: warnings.filter((f) => !skipped.has(f.lint)),
  };
}

/** Why a lint cannot start, in the words of the option at fault (the lint-bootc action's inputs share the names). */
export interface TargetProblem {
  option: "image" | "engine";
  problem: string;
  accepted: string;
}

/**
 * What to lint and how must fit together: something to lint; bootc runs only in an image; a system
 * extension is not a bootable root, so bootc's lints never apply to it. The one check of these rules:
 * lint() refuses with it, and the action maps it to the input.
 */
export function targetProblem(target: {
  image?: unknown;
  rootfs?: unknown;
  engine: Engine;
  sysext?: unknown;
}): TargetProblem | undefined {
  if (!target.image && !target.rootfs) {
    return {
      option: "image",
      problem: "and 'rootfs' are both empty",
      accepted: "an image (registry reference, OCI layout path or local name), a rootfs directory, or both",
    };
  }
  if (target.engine === "bootc" && !target.image) {
    return {
      option: "engine",
      problem: "is 'bootc' but 'image' is empty",
      accepted: "an image to run bootc in, or engine native to check 'rootfs' alone",
    };
  }
  if (target.engine === "bootc" && target.sysext) {
    return {
      option: "engine",
      problem: "is 'bootc' with sysext: true; a system extension is checked by the native rules",
      accepted: "engine native or auto",
    };
  }
  return undefined;
}

/** lint() called with options that cannot go together (see targetProblem). */
export class LintTargetError extends Error {
  constructor(readonly target: TargetProblem) {
    super(`lint-bootc: ${target.option} ${target.problem}; expected ${target.accepted}`);
    this.name = "LintTargetError";
  }
}

/**
 * Lints an image with the bootc inside it and/or a root filesystem with native checks, per `engine`:
 * `bootc` needs an image with bootc; `native` checks `rootfs` (or the unpacked image); `auto` runs bootc
 * when the image has it, and native checks on `rootfs` when given, or on the unpacked image when bootc is
 * missing.
 */
export async function lint(options: LintOptions): Promise<LintReport> {
  const { logger, engine } = options;
  const problem = targetProblem(options);
  if (problem) throw new LintTargetError(problem);
  const podmanOptions: PodmanOptions = { logger, env: options.podmanEnv, podman: options.podman };
  const notes: string[] = [];
  let bootc: BootcSection | undefined;
  let imageId: string | undefined;
  let bootcMissing = false;

  // A system extension is not a bootable root: bootc's lints do not apply to it.
  const useBootc = engine !== "native" && !options.sysext;
  if (options.image && (useBootc || !options.rootfs)) {
    const source = options.image;
    imageId = await logger.group(`lint-bootc: preparing ${describeSource(source)}`, () =>
      prepareImage(source, podmanOptions),
    );
  }
  if (imageId && useBootc) {
    const probe = await probeBootc(imageId, podmanOptions);
    if (!probe.present) {
      const message = `the image has no bootc (${probe.reason}); bootc container lint cannot run inside it`;
      if (engine === "bootc")
        throw new Error(`${message}. Use engine 'native' or 'auto' to check it without bootc.`);
      bootcMissing = true;
      notes.push(`${message}: native checks ran instead`);
      logger.warning(notes[notes.length - 1] ?? message);
    } else {
      logger.info(`bootc in the image: ${probe.version}`);
      const image = imageId;
      const run = await logger.group("lint-bootc: bootc container lint", () =>
        runBootcLint(
          {
            image,
            fatalWarnings: options.fatalWarnings,
            skip: options.skip,
            noTruncate: options.noTruncate ?? true,
          },
          probe.features,
          podmanOptions,
        ),
      );
      for (const flag of run.dropped) notes.push(`${probe.version} does not support ${flag}`);
      if (run.parsed.unknownLines.length > 0)
        notes.push(
          `bootc printed ${run.parsed.unknownLines.length} line(s) this action does not recognise; they are kept in the summary`,
        );
      const runtime = runtimeErrorFindings(run.parsed, run.exitCode, options.fatalWarnings);
      bootc = {
        version: probe.version,
        argv: run.argv,
        dropped: run.dropped,
        exitCode: run.exitCode,
        parsed: { ...run.parsed, failures: [...run.parsed.failures, ...runtime] },
      };
    }
  }

  let native: NativeReport | undefined;
  const nativeOptions = { skip: options.skip, sysext: options.sysext };
  if (options.rootfs && engine !== "bootc") {
    const rootfs = options.rootfs;
    native = await logger.group(`lint-bootc: native checks on ${rootfs}`, () =>
      runNativeChecks(rootfs, nativeOptions),
    );
  } else if (imageId && (!useBootc || bootcMissing)) {
    const image = imageId;
    const dir = await mkdtemp(join(options.workDir ?? tmpdir(), "lint-bootc-rootfs-"));
    try {
      native = await logger.group("lint-bootc: native checks on the unpacked image", async () => {
        await exportRootfs(image, join(dir, "root"), podmanOptions);
        return {
          ...(await runNativeChecks(join(dir, "root"), { ...nativeOptions, input: "image" })),
          root: "<image>",
        };
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  if (bootc && native)
    notes.push(
      "bootc's and the native findings are merged; a lint both reported is listed once, as bootc worded it",
    );
  const { failures, warnings } = mergeFindings(bootc?.parsed, native, options.skip);
  const warningsFatal = options.fatalWarnings && warnings.length > 0;
  return {
    passed: failures.length === 0 && !warningsFatal,
    failures,
    warnings,
    warningsFatal,
    bootc,
    native,
    notes,
  };
}
