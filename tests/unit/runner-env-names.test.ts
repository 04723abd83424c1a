import { afterEach, describe, expect, test } from "vitest";
import * as core from "@actions/core";
import { inputEnvName, isRunnerOwnedEnv, stateEnvName } from "@frostyard/runner";

describe("inputEnvName: the runner's INPUT_ rule", () => {
  const cases = [
    { name: "who", env: "INPUT_WHO" },
    { name: "registry-token", env: "INPUT_REGISTRY-TOKEN" },
    { name: "registry token", env: "INPUT_REGISTRY_TOKEN" },
    { name: "two  spaces", env: "INPUT_TWO__SPACES" },
    { name: "Mixed_Case-name", env: "INPUT_MIXED_CASE-NAME" },
    { name: "v1.2", env: "INPUT_V1.2" },
  ];
  afterEach(() => {
    for (const { env } of cases) delete process.env[env];
  });

  test.each(cases)("'$name' → $env", ({ name, env }) => {
    expect(inputEnvName(name)).toBe(env);
  });

  // What the runner sets must be what @actions/core reads, or every input would arrive empty.
  test.each(cases)("@actions/core's getInput('$name') reads $env", ({ name, env }) => {
    process.env[env] = `value of ${name}`;
    expect(core.getInput(name)).toBe(`value of ${name}`);
  });
});

test.each([
  { name: "isPost", env: "STATE_isPost" },
  { name: "cache-key", env: "STATE_cache-key" },
])("stateEnvName('$name') → $env (case kept, as core.getState reads it)", ({ name, env }) => {
  expect(stateEnvName(name)).toBe(env);
});

test.each([
  { name: "INPUT_WHO", owned: true },
  { name: "STATE_isPost", owned: true },
  { name: "GITHUB_OUTPUT", owned: true },
  { name: "RUNNER_TEMP", owned: true },
  { name: "ACTIONS_ID_TOKEN_REQUEST_URL", owned: true },
  { name: "PATH", owned: false },
  { name: "CONTAINERS_CONF", owned: false },
  { name: "MY_GITHUB_THING", owned: false },
])("isRunnerOwnedEnv('$name') → $owned", ({ name, owned }) => {
  expect(isRunnerOwnedEnv(name)).toBe(owned);
});
