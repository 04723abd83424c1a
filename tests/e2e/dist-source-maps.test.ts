// A failing action's stack trace names our TypeScript sources: scripts/build.mjs ships each bundle behind a
// loader (scripts/bundle-loader.js) that maps a trace through the bundle's map when it is formatted. The
// plumbing fixture entry, built by the same script and options
// as every shipped bundle, throws from a known line; its trace (logged by run() as ::debug::) must name it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { repoRoot } from "../helpers/run-action";

const fixture = "tests/fixtures/hello-action/plumbing/main.ts";
const buildDir = mkdtempSync(join(tmpdir(), "source-maps-"));
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

beforeAll(() => {
  const built = spawnSync(
    process.execPath,
    [join(repoRoot, "scripts/build.mjs"), "--entry", join(repoRoot, fixture), "--out-dir", buildDir],
    { cwd: repoRoot, encoding: "utf8" },
  );
  if (built.status !== 0) throw new Error(`build failed:\n${built.stdout}${built.stderr}`);
}, 180_000);

test("a thrown error's stack names the .ts file and line it was thrown from", () => {
  const throwLine =
    readFileSync(join(repoRoot, fixture), "utf8")
      .split("\n")
      .findIndex((line) => line.includes('throw new Error("push failed"')) + 1;
  expect(throwLine).toBeGreaterThan(0);
  const run = spawnSync(process.execPath, [join(buildDir, "plumbing/index.js")], {
    cwd: buildDir,
    env: { PATH: process.env.PATH ?? "", INPUT_MODE: "error" },
    encoding: "utf8",
  });
  const stack = run.stdout
    .split("\n")
    .find((line) => line.startsWith("::debug::Error: push failed"))
    ?.replaceAll("%0A", "\n");
  expect(stack, run.stdout + run.stderr).toBeDefined();
  // ncc's maps are line maps: the frame names the file and line, no column.
  expect(stack).toMatch(new RegExp(`${fixture.replaceAll(".", "\\.")}:${throwLine}\\b`));
  expect(stack).toContain("packages/actions/src/run.ts:");
  expect(stack).not.toMatch(/bundle\.js:\d+:\d+\)?\n\s+at async run/);
});
