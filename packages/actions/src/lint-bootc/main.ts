import { resolve } from "node:path";
import { emitAnnotations } from "@frostyard/kit";
import { findingRecords, lint, loadOsRelease } from "@frostyard/lint-bootc";
import { coreLogger, inputGetter, run, setJsonOutput, setOutput, writeSummary } from "..";
import { parseInputs } from "./inputs";
import { annotationsFor, failureOf, summaryMarkdown } from "./report";

async function main(): Promise<void> {
  const logger = coreLogger;
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = parseInputs(inputGetter, workspace);
  const sysext = inputs.sysext
    ? {
        name: inputs.sysextName,
        base: inputs.sysextBase
          ? await loadOsRelease(resolve(workspace, inputs.sysextBase), "sysext-base")
          : undefined,
        requiredPaths: inputs.sysextRequiredPaths,
      }
    : undefined;

  const report = await lint({
    image: inputs.image,
    rootfs: inputs.rootfs,
    engine: inputs.engine,
    fatalWarnings: inputs.fatalWarnings,
    skip: inputs.skip,
    sysext,
    logger,
    workDir: process.env.RUNNER_TEMP || undefined,
  });

  emitAnnotations(logger, annotationsFor(report));
  for (const note of report.notes) logger.info(note);
  setOutput("passed", String(report.passed));
  setJsonOutput("failures", findingRecords(report.failures));
  setJsonOutput("warnings", findingRecords(report.warnings));
  setOutput("bootc-version", report.bootc?.version ?? "");
  await writeSummary(summaryMarkdown(report, inputs.imageText ?? inputs.rootfsText ?? ""));
  const failure = failureOf(report);
  if (failure) throw new Error(failure);
}

await run(main);
