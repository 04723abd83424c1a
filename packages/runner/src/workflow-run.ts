import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { githubContext, inputsContext } from "./workflow-context";
import { WorkflowError } from "./workflow-errors";
import { jobOrder } from "./workflow-graph";
import { runJob } from "./workflow-job";
import { loadWorkflow } from "./workflow-load";
import type { JobRun, RunWorkflowOptions, WorkflowRun } from "./workflow-types";
import { stringMap } from "./workflow-values";

export type { CellRun, JobRun, Result, RunWorkflowOptions, StepRecord, WorkflowRun } from "./workflow-types";
export { workflowRoot } from "./workflow-root";

/**
 * Runs a workflow on this machine as GitHub's runner would run its jobs: in `needs` order, each `if:`
 * (status functions included) and every `${{ }}` through @actions/expressions, matrices expanded (also
 * from a prior job's outputs through fromJSON), cells one after another, steps through the local action
 * runner or bash with the runner's file commands, step outputs → job outputs → `needs`. What it does not
 * model is listed in docs/workflow.md; a feature outside it fails naming the job, step and feature.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const workflow = await loadWorkflow(options.file);
  const pull = options.event === "pull_request";
  const workspace = resolve(options.workdir ?? process.cwd());
  const token = `ghs_local${randomBytes(16).toString("hex")}`;
  const secrets = pull ? {} : { ...options.secrets };
  const masks: string[] = [token, ...Object.values(options.secrets ?? {}).filter((v) => v !== "")];
  const log: string[] = [];
  const say = (line: string) => {
    let shown = line;
    for (const secret of [...masks].sort((a, b) => b.length - a.length))
      shown = shown.split(secret).join("***");
    log.push(shown);
    options.onLine?.(shown);
  };
  const github = githubContext({
    event: options.event,
    repository: options.repository ?? "local/workspace",
    sha: options.sha ?? "0".repeat(40),
    ref: options.ref,
    defaultBranch: options.defaultBranch ?? "main",
    actor: options.actor ?? "local",
    runId: String(Date.now()),
    workspace,
    workflow: workflow.name,
    token,
    serverUrl: "https://github.com",
  });
  const inputs = inputsContext(workflow.inputs, options.inputs ?? {});
  const missingSecrets = Object.entries(workflow.secrets)
    .filter(([name, secret]) => secret.required && !pull && !secrets[name])
    .map(([name]) => name);
  if (missingSecrets.length > 0) {
    throw new WorkflowError("secrets", `required but not given (--secret): ${missingSecrets.join(", ")}`);
  }
  const vars = { ...options.vars };
  const runDir = await mkdtemp(join(options.tempDir ?? tmpdir(), "frostyard-workflow-"));
  const eventPath = join(runDir, "event.json");
  await writeFile(eventPath, JSON.stringify(github.event, null, 2));

  const runs = new Map<string, JobRun>();
  const runBackendId = randomUUID();
  const ordered = jobOrder(workflow.jobs);
  try {
    for (const job of ordered) {
      const run = await runJob(job, {
        workflow,
        options,
        runs,
        github,
        inputs,
        secrets,
        vars,
        masks,
        workspace,
        runDir,
        eventPath,
        say,
        pull,
        runBackendId,
      });
      runs.set(job.id, run);
    }
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
  const jobs = ordered.map((job) => runs.get(job.id) as JobRun);
  const jobsContext = Object.fromEntries(
    jobs.map((job) => [job.id, { result: job.result, outputs: job.outputs }]),
  );
  const outputs = stringMap(workflow.outputs, { github, inputs, vars, jobs: jobsContext });
  return {
    jobs,
    outputs,
    failed: jobs.some((job) => job.result === "failure" || job.result === "cancelled"),
    log,
    masks,
  };
}
