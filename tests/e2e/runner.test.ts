// The local runner end to end: the hello fixture (plain JS on the real @actions/core) through runAction()
// and through the shipped CLI bundle, proving inputs, defaults, outputs, state → post, summary, masking
// and failure exit codes.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runAction } from "@frostyard/runner";
import { ensureBuilt, repoRoot } from "../helpers/run-action";

const hello = join(repoRoot, "tests/fixtures/hello-action");
const scratch = mkdtempSync(join(tmpdir(), "runner-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Seen {
  inputs: Record<string, string>;
  env: Record<string, string | undefined>;
  cwd: string;
  node: string;
}

describe("runAction on the hello fixture", () => {
  test("passes inputs and evaluated defaults, collects outputs, runs post with main's state", async () => {
    const run = await runAction({
      actionDir: hello,
      inputs: { who: "Ada", "registry token": "r-tok" },
      env: { GITHUB_TOKEN: "ghs_secret123", HELLO_EXTRA: "extra" },
      workdir: scratch,
    });

    expect(run.exitCode).toBe(0);
    expect(run.failed).toBe(false);
    expect(run.outputs.greeting).toBe("Hello, Ada!");
    // core.setOutput appends an EOL inside its heredoc; the runner keeps the value's own newline.
    expect(run.outputs.lines).toBe("first\nsecond=2\n");
    const seen = JSON.parse(run.outputs.seen ?? "{}") as Seen;
    expect(seen.inputs).toEqual({
      INPUT_WHO: "Ada",
      INPUT_GREETING: "Hello",
      INPUT_TOKEN: "ghs_secret123",
      "INPUT_CACHE-DIR": `${seen.env.RUNNER_TEMP}/hello-cache`,
      INPUT_UNKNOWABLE: "",
      INPUT_REGISTRY_TOKEN: "r-tok",
      INPUT_FAIL: "",
    });
    expect(seen.env).toMatchObject({
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: scratch,
      HELLO_EXTRA: "extra",
    });
    expect(seen.env.RUNNER_OS).toMatch(/^(Linux|macOS|Windows)$/);
    expect(seen.env.RUNNER_TEMP).toContain(run.tempDir);
    expect(seen.cwd).toBe(scratch);
    expect(seen.node.split(".")[0]).toBe("24");

    expect(run.state).toEqual({ who: "Ada" });
    expect(run.exportedEnv).toEqual({ HELLO_EXPORTED: "from-main" });
    expect(run.addedPath).toEqual(["/opt/hello/bin"]);
    expect(run.postExitCode).toBe(0);
    expect(run.log).toContain("post: who=Ada exported=from-main path=/opt/hello/bin");

    expect(run.summary).toContain("<h2>Hello</h2>");
    expect(run.summary).toContain("Greeted Ada with ***");
    expect(run.summary).toContain("Post cleaned up after Ada");

    expect(run.annotations).toEqual([
      expect.objectContaining({
        level: "warning",
        step: "runner",
        message: expect.stringContaining("secrets.NOT_LOCAL"),
      }),
      {
        level: "warning",
        step: "main",
        message: "careful, 100% sure",
        title: "Heads up",
        file: "src/a.ts",
        line: 3,
        col: 5,
      },
    ]);
    // The token was masked with core.setSecret: the log shows *** in main and in post, never the value.
    expect(run.log).toContain("using token ***");
    expect(run.log).toContain("post still masks ***");
    expect(run.log.join("\n")).not.toContain("ghs_secret123");
    expect(run.stdout).toContain("ghs_secret123"); // raw output still has it: the masking is the runner's
    expect(run.log).toContain("▶ greeting");
    expect(run.log.some((line) => line.includes("debug detail"))).toBe(false);
  });

  test.each([
    { fail: "main", exitCode: 1, postExitCode: 0, error: "asked to fail for Bo" },
    { fail: "main-exit", exitCode: 3, postExitCode: 0, error: undefined },
    { fail: "post", exitCode: 0, postExitCode: 1, error: "post asked to fail" },
  ])(
    "fail=$fail → main exit $exitCode, post exit $postExitCode",
    async ({ fail, exitCode, postExitCode, error }) => {
      const run = await runAction({ actionDir: hello, inputs: { who: "Bo", fail }, workdir: scratch });
      expect(run.exitCode).toBe(exitCode);
      expect(run.postExitCode).toBe(postExitCode);
      expect(run.failed).toBe(true);
      const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors).toEqual(error ? [error] : []);
    },
  );

  test.each([
    { postIf: "success()", fail: "main", postRuns: false },
    { postIf: "success()", fail: "", postRuns: true },
    { postIf: "failure()", fail: "", postRuns: false },
    { postIf: "failure()", fail: "main", postRuns: true },
    { postIf: "!cancelled()", fail: "main-exit", postRuns: true },
  ])("post-if $postIf with fail='$fail' → post runs: $postRuns", async ({ postIf, fail, postRuns }) => {
    const dir = mkdtempSync(join(scratch, "post-if-"));
    const yml = readFileSync(join(hello, "action.yml"), "utf8")
      .replace("post-if: always()", `post-if: "${postIf}"`)
      .replace("main: main.js", `main: ${join(hello, "main.js")}`)
      .replace("post: post.js", `post: ${join(hello, "post.js")}`);
    writeFileSync(join(dir, "action.yml"), yml);
    const run = await runAction({ actionDir: dir, inputs: { who: "Cy", fail }, workdir: scratch });
    expect(run.post !== undefined).toBe(postRuns);
    expect(run.log.some((line) => line.startsWith("post: who=Cy"))).toBe(postRuns);
  });

  test("a run inside a real job inherits none of that job's runner variables", async () => {
    const outer = join(scratch, "outer-output");
    writeFileSync(outer, "");
    const leaked = {
      GITHUB_OUTPUT: outer,
      INPUT_GREETING: "Outer",
      INPUT_REGISTRY_TOKEN: "outer-token",
      RUNNER_TOOL_CACHE: "/outer/tool-cache",
    };
    Object.assign(process.env, leaked);
    try {
      const run = await runAction({ actionDir: hello, inputs: { who: "Di" }, workdir: scratch });
      const seen = JSON.parse(run.outputs.seen ?? "{}") as Seen;
      expect(run.outputs.greeting).toBe("Hello, Di!");
      expect(seen.inputs.INPUT_REGISTRY_TOKEN).toBeUndefined();
      expect(seen.env.RUNNER_TOOL_CACHE).toBe(join(run.tempDir, "tool-cache"));
      expect(readFileSync(outer, "utf8")).toBe("");
    } finally {
      for (const name of Object.keys(leaked)) delete process.env[name];
    }
  });

  test("options: debug shows ::debug::, inheritEnv=false drops this shell's variables, keepTemp keeps files", async () => {
    process.env.HELLO_EXTRA = "inherited";
    try {
      const inherited = await runAction({ actionDir: hello, inputs: { who: "Gil" }, workdir: scratch });
      expect((JSON.parse(inherited.outputs.seen ?? "{}") as Seen).env.HELLO_EXTRA).toBe("inherited");
      expect(existsSync(inherited.tempDir)).toBe(false);

      const run = await runAction({
        actionDir: hello,
        inputs: { who: "Gil" },
        workdir: scratch,
        debug: true,
        inheritEnv: false,
        keepTemp: true,
      });
      expect(run.log).toContain("debug: debug detail");
      expect((JSON.parse(run.outputs.seen ?? "{}") as Seen).env.HELLO_EXTRA).toBeUndefined();
      expect(readFileSync(join(run.tempDir, "files", "main", "summary.md"), "utf8")).toContain("Greeted Gil");
      rmSync(run.tempDir, { recursive: true, force: true });
    } finally {
      delete process.env.HELLO_EXTRA;
    }
  });

  test("a step running past timeoutMs is killed and fails with an error annotation", async () => {
    const dir = mkdtempSync(join(scratch, "hang-"));
    writeFileSync(join(dir, "action.yml"), "name: hang\nruns:\n  using: node24\n  main: main.js\n");
    writeFileSync(join(dir, "main.js"), "console.log('started'); setInterval(() => {}, 1000);\n");
    const started = Date.now();
    const run = await runAction({ actionDir: dir, workdir: scratch, timeoutMs: 1500 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.log[0]).toBe("started");
    expect(run.exitCode).not.toBe(0);
    expect(run.annotations).toEqual([
      { level: "error", step: "main", message: "main step timed out after 1500 ms and was killed" },
    ]);
  });

  test.each([
    {
      yml: "name: x\nruns:\n  using: node20\n  main: main.js\n",
      error: "runs.using is 'node20'; the local runner runs 'node24' actions only",
    },
    { yml: "name: x\nruns:\n  using: node24\n", error: "runs.main is missing" },
    {
      yml: "name: x\nruns:\n  using: node24\n  main: gone.js\n",
      error: "runs.main 'gone.js' does not exist",
    },
    { yml: "name: [x\n", error: "not valid YAML" },
  ])("refuses an action it cannot run: $error", async ({ yml, error }) => {
    const dir = mkdtempSync(join(scratch, "bad-"));
    writeFileSync(join(dir, "action.yml"), yml);
    await expect(runAction({ actionDir: dir })).rejects.toThrow(error);
  });
});

describe("the frostyard-build CLI bundle", () => {
  let cli = "";
  beforeAll(() => {
    cli = ensureBuilt("cli");
  });

  const runCli = (...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, GITHUB_TOKEN: "" },
    });

  test("runs an action directory and prints outputs, annotations, summary; exit 0", () => {
    const result = runCli(
      "run",
      "tests/fixtures/hello-action",
      "--input",
      "who=Eve",
      "-i",
      "greeting=Hi=there",
      "--env",
      "HELLO_EXTRA=1",
      "--workdir",
      scratch,
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("▶ greeting\nHi=there, Eve!");
    expect(result.stdout).toContain("  greeting = Hi=there, Eve!");
    expect(result.stdout).toContain("  lines:\n    first\n    second=2");
    expect(result.stdout).toContain("  warning [main] src/a.ts:3:5: Heads up: careful, 100% sure");
    expect(result.stdout).toContain("[post] post: who=Eve");
    expect(result.stdout).toContain("Job summary:\n    <h2>Hello</h2>");
    expect(result.stdout).toMatch(/OK: main exited 0 in \d+ ms, post exited 0 in \d+ ms/);
  });

  test.each([
    { fail: "main", status: 1, verdict: /FAILED: main exited 1/ },
    { fail: "main-exit", status: 3, verdict: /FAILED: main exited 3/ },
    { fail: "post", status: 1, verdict: /FAILED: main exited 0 in \d+ ms, post exited 1/ },
  ])("exits $status when fail=$fail", ({ fail, status, verdict }) => {
    const result = runCli("run", hello, "-i", "who=Fay", "-i", `fail=${fail}`);
    expect(result.status).toBe(status);
    expect(result.stdout).toMatch(verdict);
  });

  test.each([
    { args: [], message: "missing command" },
    { args: ["run"], message: "missing <action>" },
    { args: ["run", "no-such-action"], message: "no action 'no-such-action'" },
    { args: ["run", hello, "--input", "novalue"], message: "--input 'novalue': expected name=value" },
  ])("usage errors exit 2: $message", ({ args, message }) => {
    const result = runCli(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
