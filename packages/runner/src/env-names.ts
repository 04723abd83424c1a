/**
 * The runner's rule for input env vars: `INPUT_` + the name with spaces turned into `_`, upper-cased.
 * Hyphens stay (`registry-token` → `INPUT_REGISTRY-TOKEN`), which is why shells cannot read them but
 * `@actions/core`'s getInput, which applies the same rule, can.
 */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** What the main step saved with `core.saveState(name, …)` reaches the post step as `STATE_<name>`, as is. */
export function stateEnvName(name: string): string {
  return `STATE_${name}`;
}

/**
 * Variables a local run must not inherit from the shell that started it: they belong to the runner
 * (a run inside a real job would otherwise write into that job's GITHUB_OUTPUT) or to another action.
 */
export function isRunnerOwnedEnv(name: string): boolean {
  return /^(INPUT_|STATE_|GITHUB_|RUNNER_|ACTIONS_)/.test(name);
}
