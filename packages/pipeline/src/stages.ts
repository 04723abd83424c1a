import type { Timings } from "@frostyard/kit";

/** The pipeline's stages, in the order they run. */
export const STAGES = ["build", "lint", "push", "sign", "verify", "promote"] as const;
export type Stage = (typeof STAGES)[number];

/** A stage failed: the message names it first, the original error is the cause. */
export class PipelineStageError extends Error {
  constructor(
    readonly stage: Stage,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`pipeline stage '${stage}' failed: ${reason}`, options);
    this.name = "PipelineStageError";
  }
}

/** Runs one stage timed under its name; any error becomes a PipelineStageError naming it. */
export async function runStage<T>(timings: Timings, stage: Stage, fn: () => Promise<T>): Promise<T> {
  try {
    return await timings.time(stage, fn);
  } catch (error) {
    if (error instanceof PipelineStageError) throw error;
    throw new PipelineStageError(stage, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}
