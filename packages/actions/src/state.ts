import * as core from "@actions/core";

/**
 * The runner passes what the main step saved (`core.saveState`) to the post step as `STATE_<name>`
 * env vars. The main step marks itself with `isPost=true`, so the same bundle knows on its second
 * run that it is the post step (the docker/actions-toolkit convention).
 */
const IS_POST = "isPost";

export function isPostStep(): boolean {
  return core.getState(IS_POST) === "true";
}

export function markMainStepStarted(): void {
  core.saveState(IS_POST, "true");
}

/** Saves a value for this action's post step. Never save secrets here: the state file is plain text. */
export function saveState(name: string, value: string): void {
  core.saveState(name, value);
}

/** A value the main step saved; "" in the main step or when it saved none. */
export function readState(name: string): string {
  return core.getState(name);
}
