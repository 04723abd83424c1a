import * as core from "@actions/core";
import { InputError, messageWithCauses as failureMessage } from "@frostyard/kit";
import { isPostStep, markMainStepStarted } from "./state";

/**
 * A child process a bundle starts of itself (e.g. packaging as root under sudo): recognised by an environment
 * variable naming its request, it serves that and exits, never reaching the main or post step.
 */
export interface WorkerRole {
  env: string;
  serve: (request: string) => Promise<void>;
}

/**
 * The one-line body of every action entry: `await run(main, post, worker)`. The first run of the bundle is
 * the main step; the runner runs it again as the post step (when action.yml has `post:`), recognised by the
 * state the main step saved; a worker is the bundle started by itself. A failing main step fails the job
 * with its message; a failing post step (cleanup) only warns, so it never turns a good build red.
 */
export async function run(
  main: () => Promise<void>,
  post?: () => Promise<void>,
  worker?: WorkerRole,
): Promise<void> {
  const request = worker ? process.env[worker.env] : undefined;
  if (worker && request) {
    await worker.serve(request);
    return;
  }
  if (isPostStep()) {
    if (!post) return;
    try {
      await post();
    } catch (error) {
      core.warning(`post step: ${failureMessage(error)}`);
    }
    return;
  }
  // Marked before main runs so the post step still cleans up after a main step that threw.
  markMainStepStarted();
  try {
    await main();
  } catch (error) {
    if (error instanceof Error && !(error instanceof InputError) && error.stack) core.debug(error.stack);
    core.setFailed(failureMessage(error));
  }
}

/** What the user sees for a failure: the message with its causes (one definition, in @frostyard/kit). */
export { failureMessage };
