// @frostyard/actions as every action ships it: the plumbing fixture entry bundled by scripts/build.mjs
// and run through the local runner: main vs post from saved state, InputError
// shown as is, error causes kept, a failing post step only warning, coreLogger annotations and masks.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runAction } from "@frostyard/runner";
import { repoRoot } from "../helpers/run-action";

const fixture = join(repoRoot, "tests/fixtures/hello-action/plumbing");
const buildDir = mkdtempSync(join(tmpdir(), "plumbing-action-"));
const actionDir = join(buildDir, "plumbing");
const workdir = mkdtempSync(join(tmpdir(), "plumbing-work-"));

beforeAll(() => {
  // Built by the same script and options as every shipped bundle.
  const built = spawnSync(
    process.execPath,
    [join(repoRoot, "scripts/build.mjs"), "--entry", join(fixture, "main.ts"), "--out-dir", buildDir],
    { cwd: repoRoot, encoding: "utf8" },
  );
  if (built.status !== 0) throw new Error(`build failed:\n${built.stdout}${built.stderr}`);
  copyFileSync(join(fixture, "action.yml"), join(actionDir, "action.yml"));
}, 180_000);

afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(workdir, { recursive: true, force: true });
});

const errors = (run: Awaited<ReturnType<typeof runAction>>) =>
  run.annotations.filter((a) => a.level === "error").map((a) => a.message);

describe("run(main, post)", () => {
  test("main runs, saves state, writes JSON output and summary; post sees the state", async () => {
    const run = await runAction({ actionDir, workdir, inputs: { secret: "pa55word" } });
    expect(run.exitCode).toBe(0);
    expect(run.state).toEqual({ isPost: "true", note: "main ran in mode ok" });
    expect(JSON.parse(run.outputs.result ?? "")).toEqual({ mode: "ok", items: [1, 2] });
    expect(run.summary).toBe("## Plumbing\n\n");
    expect(run.postExitCode).toBe(0);
    expect(run.log).toContain("post: main ran in mode ok");
    // The post step ran the post branch only: main's work did not run twice.
    expect(run.log.filter((line) => line === "▶ work")).toHaveLength(1);
  });

  test("coreLogger: masked secret, group, warning annotation with file and line", async () => {
    const run = await runAction({ actionDir, workdir, inputs: { secret: "pa55word" } });
    expect(run.masks).toEqual(["pa55word"]);
    expect(run.log).toContain("secret is ***");
    expect(run.log.join("\n")).not.toContain("pa55word");
    expect(run.log).toContain("▶ work");
    expect(run.annotations).toEqual([
      {
        level: "warning",
        step: "main",
        message: "a finding",
        title: "Lint",
        file: "etc/x.conf",
        line: 2,
        col: 4,
      },
      { level: "notice", step: "main", message: "for your information" },
    ]);
  });

  test.each([
    {
      mode: "input-error",
      exitCode: 1,
      error: "input 'mode': got 'input-error'; expected one of: ok, error, post-error",
    },
    { mode: "error", exitCode: 1, error: "push failed: connect ECONNREFUSED 127.0.0.1:1" },
  ])("mode=$mode fails the job with '$error'", async ({ mode, exitCode, error }) => {
    const run = await runAction({ actionDir, workdir, inputs: { mode } });
    expect(run.exitCode).toBe(exitCode);
    expect(errors(run)).toEqual([error]);
    // Cleanup still runs after a failed main step.
    expect(run.postExitCode).toBe(0);
    expect(run.log).toContain(`post: main ran in mode ${mode}`);
  });

  test("a failing post step warns and does not fail the job", async () => {
    const run = await runAction({ actionDir, workdir, inputs: { mode: "post-error" } });
    expect(run.exitCode).toBe(0);
    expect(run.postExitCode).toBe(0);
    expect(run.failed).toBe(false);
    expect(run.annotations.filter((a) => a.step === "post")).toEqual([
      { level: "warning", step: "post", message: "post step: cleanup broke" },
    ]);
  });
});
