import * as core from "@actions/core";

/**
 * The runner passes what the main step saved (`core.saveState`) to the post step as `STATE_<name>`
 * env vars. The main step marks itself with `isPost=true`, so the same bundle knows on its second
 * run that it is the post step (the docker/actions-toolkit convention).
 */
/** Every state key the bundles save, in one place so main and post steps cannot drift apart. */
export const STATE = {
  /** Set by every main step: the next run of the bundle is the post step. */
  isPost: "isPost",
  /** build-mkosi and the root action: where mkosi's cache is, for the post step to save (BuildCacheState). */
  buildCache: "cacheState",
  /** cosign-sign: the private directory of secret files the post step removes. */
  secretDir: "secretDir",
  /** build-sysext: the throwaway GNUPGHOME holding the signing key, removed by the post step. */
  gnupgHome: "gnupgHome",
} as const;
export type StateKey = (typeof STATE)[keyof typeof STATE];

const IS_POST = STATE.isPost;

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
