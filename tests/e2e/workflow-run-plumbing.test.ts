import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runWorkflow, WorkflowError, type WorkflowRun } from "@frostyard/runner";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  type HostedServices,
} from "../helpers/hosted-services";
import { ensureBuilt, repoRoot } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";

/**
 * The local workflow runner's plumbing on a small fixture workflow (tests/fixtures/workflow/plumbing.yml),
 * with real bash, jq, the hello fixture action through the single-action runner, and artifacts through the
 * loopback results service and azurite. The reusable workflow itself runs in workflow-run.test.ts.
 */

const FILE = join(repoRoot, "tests/fixtures/workflow/plumbing.yml");
const SECRET = "sekrit-7d1c0a9f";

describe.skipIf(hostedServicesUnavailable() || missingTools("bash", "jq"))(
  "frostyard-build workflow: plumbing",
  () => {
    let services: HostedServices;
    let push: WorkflowRun;

    const run = (extra: Partial<Parameters<typeof runWorkflow>[0]> = {}) =>
      runWorkflow({
        file: FILE,
        event: "push",
        workdir: repoRoot,
        secrets: { TOKEN: SECRET },
        services,
        ...extra,
      });

    beforeAll(async () => {
      services = await startTestHostedServices();
      push = await run({ inputs: { greeting: "Hi" } });
    }, 120_000);
    afterAll(async () => {
      await services?.stop();
    });

    const job = (result: WorkflowRun, id: string) => result.jobs.find((j) => j.id === id)!;

    test("jobs run in needs order, the matrix comes from plan's output with include and exclude", () => {
      expect(push.failed, push.log.join("\n")).toBe(false);
      expect(push.jobs.map((j) => [j.id, j.result])).toEqual([
        ["plan", "success"],
        ["cells", "success"],
        ["greet", "success"],
        ["gather", "success"],
      ]);
      expect(job(push, "cells").cells.map((c) => c.matrix)).toEqual([
        { os: "a", extra: "x" },
        { os: "b" },
        { os: "d" },
      ]);
      expect(job(push, "cells").runsOn).toEqual(["runner-a", "runner-b", "runner-d"]);
    });

    test("env layers, GITHUB_ENV and GITHUB_PATH reach later steps; secrets reach env and are masked", () => {
      const merged = JSON.parse(push.outputs.merged ?? "") as {
        os: string;
        env: string;
        event: string;
        secret: string;
      }[];
      expect(merged).toEqual([
        { os: "a", env: "wf/job-a/step-x/exported-a/tool-on-path", event: "push", secret: "set" },
        { os: "b", env: "wf/job-b/step-none/exported-b/tool-on-path", event: "push", secret: "set" },
        { os: "d", env: "wf/job-d/step-none/exported-d/tool-on-path", event: "push", secret: "set" },
      ]);
      expect(push.log).toContain("secret is ***");
      expect(push.log.join("\n")).not.toContain(SECRET);
    });

    test("step outputs → job outputs (last writer wins across cells) → needs, and the action step", () => {
      expect(job(push, "cells").outputs).toEqual({ last: "d" });
      expect(job(push, "greet").outputs).toEqual({ greeting: "Hi, d!" });
      expect(job(push, "greet").idToken).toBe(true);
      expect(job(push, "cells").permissions).toEqual({ contents: "read" });
      expect(job(push, "plan").permissions).toEqual({});
    });

    test("a pull request gets no secrets and no id-token", async () => {
      const pull = await run({ event: "pull_request" });
      expect(pull.failed).toBe(false);
      const merged = JSON.parse(pull.outputs.merged ?? "") as { event: string; secret: string }[];
      expect(merged.map((m) => [m.event, m.secret])).toEqual([
        ["pull_request", ""],
        ["pull_request", ""],
        ["pull_request", ""],
      ]);
      expect(job(pull, "greet").idToken).toBe(false);
      expect(job(pull, "cells").secrets).toBe(false);
    }, 120_000);

    test("a failing cell: fail-fast false runs the rest, failure() steps run, !cancelled() jobs still run", async () => {
      const failing = await run({ inputs: { "fail-cell": "b" } });
      expect(failing.failed).toBe(true);
      const cells = job(failing, "cells");
      expect(cells.result).toBe("failure");
      expect(cells.cells.map((c) => c.result)).toEqual(["success", "failure", "success"]);
      expect(cells.cells[1]!.steps.map((s) => [s.outcome, s.conclusion])).toEqual([
        ["success", "success"],
        ["failure", "failure"],
        ["skipped", "skipped"],
        ["success", "success"],
      ]);
      expect(failing.log).toContain("cleanup after failure in b");
      expect(failing.log).toContain("error: failing b on request");
      expect(job(failing, "greet").result).toBe("success");
      expect(job(failing, "gather").result).toBe("success");
      expect(JSON.parse(failing.outputs.merged ?? "").map((m: { os: string }) => m.os)).toEqual(["a", "d"]);
    }, 120_000);

    test("what is not modelled fails naming the job, step and feature", async () => {
      await expect(run({ inputs: { nope: "x" } })).rejects.toThrow(/'nope' not declared/);
      await expect(run({ services: undefined })).rejects.toThrow(
        /job cells \(a, x\) step 3: actions\/upload-artifact needs the artifact service: run with --hosted-services/,
      );
      await expect(run({ services: undefined })).rejects.toBeInstanceOf(WorkflowError);
    }, 120_000);

    test("the CLI: `frostyard-build workflow` from dist/cli (GitHub's parser and evaluator bundled), secrets from the environment", async () => {
      const cli = ensureBuilt("cli");
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          cli,
          "workflow",
          FILE,
          "--hosted-services",
          "--secret",
          "TOKEN=PLUMBING_TOKEN",
          "--input",
          "greeting=Hey",
        ],
        { cwd: repoRoot, env: { ...process.env, PLUMBING_TOKEN: SECRET }, maxBuffer: 16 * 1024 * 1024 },
      );
      expect(stdout).toContain("Hey, d!");
      expect(stdout).toContain("secret is ***");
      expect(stdout).not.toContain(SECRET);
      expect(stdout).not.toContain("::debug::");
      expect(stdout).toMatch(
        /greet: success\n\s+permissions: id-token: write; secrets: given; id-token: granted/,
      );
      expect(stdout).toMatch(/Workflow outputs:\n\s+merged=\[\{"os":"a"/);
      expect(stdout.trimEnd().endsWith("OK")).toBe(true);
    }, 300_000);
  },
);
