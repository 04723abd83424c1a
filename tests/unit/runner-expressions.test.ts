import { expect, test } from "vitest";
import {
  contextEnvName,
  evaluateCondition,
  evaluateDefault,
  evaluateExpression,
  evaluateTemplate,
  ExpressionFailure,
} from "@frostyard/runner";

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

// GitHub's evaluator does the work now: functions and operators over the contexts a local run knows.
test.each([
  { raw: "${{ github.token || 'x' }}", value: "ghs_x", unresolved: [] },
  { raw: "${{ env.EMPTY || 'fallback' }}", value: "", unresolved: ["${{ env.EMPTY || 'fallback' }}"] },
  { raw: "${{ format('{0}/cache', runner.temp) }}", value: "/tmp/r/cache", unresolved: [] },
  { raw: "${{ github['token'] }}", value: "ghs_x", unresolved: [] },
  { raw: "${{ toJSON(github) }}", value: "", unresolved: ["${{ toJSON(github) }}"] },
  { raw: "${{ matrix.os }}", value: "", unresolved: ["${{ matrix.os }}"] },
  { raw: "${{ 'unclosed }}", value: "", unresolved: ["${{ 'unclosed }}"] },
])("evaluateDefault('$raw') through GitHub's evaluator → '$value'", ({ raw, value, unresolved }) => {
  expect(evaluateDefault(raw, env)).toEqual({ value, unresolved });
});

const contexts = {
  github: { event_name: "push", ref: "refs/heads/main" },
  inputs: { profiles: "a,b", boot: false },
  needs: { plan: { result: "success", outputs: { cells: '{"include":[{"p":"a"}]}', n: "3" } } },
  matrix: { profile: "", arch: "amd64" },
};

test.each([
  { raw: "plain", value: "plain" },
  { raw: "${{ inputs.profiles }}", value: "a,b" },
  { raw: "${{ inputs.boot }}", value: false },
  { raw: "v-${{ inputs.boot }}", value: "v-false" },
  { raw: "${{ fromJSON(needs.plan.outputs.cells) }}", value: { include: [{ p: "a" }] } },
  { raw: "${{ fromJSON(needs.plan.outputs.n) }}", value: 3 },
  { raw: "${{ matrix.profile || 'image' }}", value: "image" },
  { raw: "${{ matrix.arch }}/${{ matrix.profile }}", value: "amd64/" },
  { raw: "${{ github.nope }}", value: null },
  { raw: "x${{ github.nope }}y", value: "xy" },
  { raw: "${{ toJSON(matrix) }}", value: '{\n  "profile": "",\n  "arch": "amd64"\n}' },
])("evaluateTemplate('$raw') → $value", ({ raw, value }) => {
  expect(evaluateTemplate(raw, contexts)).toEqual(value);
});

const passing = { success: () => true, failure: () => false, cancelled: () => false };
const failing = { success: () => false, failure: () => true, cancelled: () => false };

test.each([
  { condition: "github.event_name == 'push'", ok: true, failed: true },
  { condition: "${{ github.event_name != 'push' }}", ok: false, failed: false },
  { condition: "success() && inputs.profiles", ok: true, failed: false },
  { condition: "${{ !cancelled() && !failure() }}", ok: true, failed: false },
  { condition: "always()", ok: true, failed: true },
  { condition: "failure()", ok: false, failed: true },
  { condition: "inputs.boot", ok: false, failed: false },
  { condition: "needs.plan.outputs.n == 3", ok: true, failed: true },
])("evaluateCondition('$condition') → $ok / $failed", ({ condition, ok, failed }) => {
  expect(evaluateCondition(condition, contexts, passing)).toBe(ok);
  expect(evaluateCondition(condition, contexts, failing)).toBe(failed);
});

test.each([
  { expression: "needs.plan.outputs ==", problem: /needs\.plan\.outputs ==/ },
  { expression: "hashFiles('x')", problem: /hashFiles\(\) is not supported by the local runner/ },
  { expression: "nosuch.context", problem: /nosuch/ },
])("evaluateExpression('$expression') fails naming the expression", ({ expression, problem }) => {
  expect(() => evaluateExpression(expression, contexts, passing)).toThrow(ExpressionFailure);
  expect(() => evaluateExpression(expression, contexts, passing)).toThrow(problem);
});
