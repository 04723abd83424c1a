import { expect, test } from "vitest";
import { contextEnvName, evaluateDefault } from "@frostyard/runner";

test.each([
  { path: "github.token", env: "GITHUB_TOKEN" },
  { path: "github.workspace", env: "GITHUB_WORKSPACE" },
  { path: "github.server_url", env: "GITHUB_SERVER_URL" },
  { path: "runner.temp", env: "RUNNER_TEMP" },
  { path: "runner.tool_cache", env: "RUNNER_TOOL_CACHE" },
  { path: "env.MY_VAR", env: "MY_VAR" },
  { path: "secrets.TOKEN", env: undefined },
  { path: "steps.x.outputs.y", env: undefined },
  { path: "github.event.pull_request.number", env: undefined },
  { path: "github.token || 'x'", env: undefined },
])("contextEnvName('$path') → $env", ({ path, env }) => {
  expect(contextEnvName(path)).toBe(env);
});

const env = { GITHUB_TOKEN: "ghs_x", RUNNER_TEMP: "/tmp/r", GITHUB_WORKSPACE: "/w", EMPTY: "" };

test.each([
  { raw: "plain", value: "plain", unresolved: [] },
  { raw: "", value: "", unresolved: [] },
  { raw: "${{ github.token }}", value: "ghs_x", unresolved: [] },
  { raw: "${{github.token}}", value: "ghs_x", unresolved: [] },
  { raw: "${{ runner.temp }}/cache", value: "/tmp/r/cache", unresolved: [] },
  { raw: "${{ github.workspace }}:${{ runner.temp }}", value: "/w:/tmp/r", unresolved: [] },
  { raw: "${{ 'it''s' }}", value: "it's", unresolved: [] },
  { raw: "${{ true }}", value: "true", unresolved: [] },
  { raw: "${{ 3 }}", value: "3", unresolved: [] },
  { raw: "${{ secrets.X }}", value: "", unresolved: ["${{ secrets.X }}"] },
  { raw: "${{ env.EMPTY }}", value: "", unresolved: ["${{ env.EMPTY }}"] },
  { raw: "${{ runner.temp }}/${{ github.sha }}", value: "", unresolved: ["${{ github.sha }}"] },
])("evaluateDefault('$raw') → '$value'", ({ raw, value, unresolved }) => {
  expect(evaluateDefault(raw, env)).toEqual({ value, unresolved });
});
