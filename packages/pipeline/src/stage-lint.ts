import { rm } from "node:fs/promises";
import { lint, type LintReport } from "@frostyard/lint-bootc";
import { unpackLayoutImage } from "./layout-rootfs";
import type { PipelineRun } from "./run-context";
import type { BuiltImage } from "./stage-build";
import { PipelineStageError, runStage } from "./stages";

/** Lint: bootc's rules, natively, on what will be pushed; a failing image stops the run before any push. */
export async function lintStage(run: PipelineRun, built: BuiltImage): Promise<void> {
  const { report, logger } = run;
  const linted = await runStage(run.timings, "lint", () => lintImage(run, built));
  report.lint = linted;
  for (const note of linted.notes) logger.info(note);
  if (!linted.passed) {
    const failing = [...linted.failures, ...(linted.warningsFatal ? linted.warnings : [])];
    throw new PipelineStageError(
      "lint",
      `${failing.length} finding(s) fail the image: ${failing.map((f) => `${f.lint} (${f.message.split("\n")[0]})`).join("; ")}; nothing was pushed`,
    );
  }
}

/**
 * The rootfs of a Format=directory build, or a Format=oci build's image unpacked from its layout (removed
 * again afterwards): the pipeline lints exactly what it pushes.
 */
async function lintImage(run: PipelineRun, built: BuiltImage): Promise<LintReport> {
  const { options, report, logger } = run;
  const lintOptions = {
    engine: "native" as const,
    fatalWarnings: options.lintFatalWarnings,
    skip: options.lintSkip,
    logger,
  };
  if (report.build.rootfs) {
    const rootfs = report.build.rootfs;
    return logger.group(`lint ${rootfs}`, () => lint({ ...lintOptions, rootfs }));
  }
  if (built.main.format !== "oci") {
    throw new Error(
      `the main image is Format=${built.main.format}; the pipeline lints a Format=directory rootfs or a Format=oci image (or set lint: false)`,
    );
  }
  const rootfs = `${built.layout}.lint-rootfs`;
  try {
    return await logger.group(`lint ${built.layout} (${built.digest}, unpacked)`, async () => {
      await unpackLayoutImage(built.layout, built.digest, rootfs, logger);
      return lint({ ...lintOptions, rootfs });
    });
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
