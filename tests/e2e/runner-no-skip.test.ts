// The no-skip rule: under FROSTYARD_REQUIRE_TOOLS=1 (as .ci/run sets) a skipped test fails the run,
// whatever skipped it; locally skips stay allowed. Runs a nested vitest on a probe suite with the
// same reporter `npm test` uses.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { repoRoot } from "../helpers/run-action";

let probe = "";
beforeAll(() => {
  // Under the repository so the probe resolves vitest; .tmp/ is ignored by git, eslint and prettier.
  mkdirSync(join(repoRoot, ".tmp"), { recursive: true });
  probe = mkdtempSync(join(repoRoot, ".tmp", "no-skip-probe-"));
  writeFileSync(
    join(probe, "probe.test.ts"),
    [
      'import { describe, expect, test } from "vitest";',
      'test("runs", () => expect(1).toBe(1));',
      'test.skip("skipped on purpose", () => {});',
      'describe.skipIf(true)("a skipped suite", () => { test("inner", () => {}); });',
      'test("skips itself", (ctx) => ctx.skip("no tool here"));',
    ].join("\n"),
  );
});
afterAll(() => rmSync(probe, { recursive: true, force: true }));

function runProbe(env: Record<string, string>) {
  return spawnSync(
    process.execPath,
    [
      join(repoRoot, "node_modules/vitest/vitest.mjs"),
      "run",
      "--root",
      probe,
      "--reporter=default",
      `--reporter=${join(repoRoot, "scripts/no-skip-reporter.ts")}`,
    ],
    {
      cwd: probe,
      encoding: "utf8",
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", FROSTYARD_REQUIRE_TOOLS: "", ...env },
    },
  );
}

test("with FROSTYARD_REQUIRE_TOOLS=1 the run fails and names every skipped test", () => {
  const result = runProbe({ FROSTYARD_REQUIRE_TOOLS: "1" });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("FROSTYARD_REQUIRE_TOOLS=1 forbids skipped tests; 3 skipped:");
  expect(result.stderr).toContain("probe.test.ts > skipped on purpose");
  expect(result.stderr).toContain("probe.test.ts > a skipped suite > inner");
  expect(result.stderr).toContain("probe.test.ts > skips itself (no tool here)");
}, 120_000);

test("without it the same suite passes, skips reported as skips", () => {
  const result = runProbe({});
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/1 passed \| 3 skipped/);
}, 120_000);
