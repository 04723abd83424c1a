import type { PipelineDeps, PipelineOptions, PipelineReport } from "./report";
import { newPipelineRun } from "./run-context";
import { buildStage } from "./stage-build";
import { lintStage } from "./stage-lint";
import { pushStage } from "./stage-push";
import { loadKeyStage, promoteStage, signStage, verifyStage } from "./stage-sign";
import { PipelineStageError } from "./stages";

/**
 * The whole pipeline in one process: key → build (mkosi, packaged as an OCI layout) → lint (native; a
 * failure stops before anything is pushed) → push (to `image`, else to an OCI layout served on loopback)
 * → sign (cosign key, else a throwaway one) → verify (read back with the written public key) → promote.
 * Each stage is timed; a failure is a PipelineStageError naming the stage, recorded in the report.
 */
export async function runPipeline(options: PipelineOptions, deps: PipelineDeps): Promise<PipelineReport> {
  const run = newPipelineRun(options, deps);
  try {
    const signing = await loadKeyStage(run);
    const built = await buildStage(run);
    if (options.lint) await lintStage(run, built);
    const pushed = await pushStage(run, built);
    const publicKey = await signStage(run, built, pushed, signing);
    await verifyStage(run, pushed, publicKey);
    await promoteStage(run, pushed);
    return run.report;
  } catch (error) {
    run.report.failed = {
      ...(error instanceof PipelineStageError ? { stage: error.stage } : {}),
      message: error instanceof Error ? error.message : String(error),
    };
    throw error;
  } finally {
    await run.registry?.close();
  }
}
