import { checkProject } from "./check-project";
import {
  newBuildContext,
  recordingFailure,
  type BuildContext,
  type BuildDeps,
  type MkosiBuildOptions,
} from "./context";
import { afterVersionCheck, checkMkosiVersion, locateMkosi } from "./install";
import { mkosiBuildStep } from "./mkosi-build";
import { prepareStep } from "./prepare";
import { restoreCacheStep } from "./restore-cache";
import { prepareRunnerStep } from "./runner-prep";
import { summaryStep, type PlannedBuild } from "./summary";

export interface BuildHooks {
  /**
   * Runs once mkosi has said what it will build and before anything is built: the caller's own checks of
   * the images (an action that packages an OCI image, or makes sysexts, refuses what it cannot handle here,
   * not after an hour of building).
   */
  beforeBuild?: (plan: PlannedBuild, context: BuildContext) => Promise<void> | void;
}

/** An mkosi build, done: its plan (where everything is) and its context (report included). */
export interface MkosiBuild {
  context: BuildContext;
  plan: PlannedBuild;
}

/**
 * One mkosi build as every action runs it: check the project → install mkosi → prepare (sudo,
 * SOURCE_DATE_EPOCH, work volume) → mkosi summary → the caller's checks → prepare the runner → restore
 * the cache → mkosi build. Each step is timed in the report; the post step saves the cache with
 * `saveBuildCache`. `mkosi --version` runs beside prepare and summary: each call starts mkosi (and a
 * toolbox or sudo around it) afresh, about half a second of a warm build, and neither needs the other.
 */
export async function runMkosiBuild(
  options: MkosiBuildOptions,
  deps: BuildDeps,
  hooks: BuildHooks = {},
): Promise<MkosiBuild> {
  const context = newBuildContext(options, deps);
  return recordingFailure(context, async () => {
    const directory = await checkProject(options);
    const mkosi = await locateMkosi(context);
    const plan = await afterVersionCheck(checkMkosiVersion(context, mkosi.command), async () =>
      summaryStep(context, await prepareStep(context, directory, mkosi)),
    );
    await hooks.beforeBuild?.(plan, context);
    await prepareRunnerStep(context, plan);
    await restoreCacheStep(context, plan);
    await mkosiBuildStep(context, plan);
    return { context, plan };
  });
}
