import type { JobStatus } from "./expressions";
import { evaluateCondition } from "./expressions";
import { runCell } from "./workflow-cell";
import { WorkflowError } from "./workflow-errors";
import { ancestors } from "./workflow-graph";
import type { LoadedJob } from "./workflow-load";
import { cellName, expandMatrix } from "./workflow-matrix";
import type { JobRun, RunState } from "./workflow-types";
import { evaluateDeep } from "./workflow-values";

function jobStatus(job: LoadedJob, state: RunState): JobStatus {
  const results = ancestors(job.id, state.workflow.jobs).map((id) => state.runs.get(id)?.result);
  return {
    success: () => results.every((result) => result === "success"),
    failure: () => results.some((result) => result === "failure"),
    cancelled: () => results.some((result) => result === "cancelled"),
  };
}

export async function runJob(job: LoadedJob, state: RunState): Promise<JobRun> {
  const needs = Object.fromEntries(
    job.needs.map((need) => {
      const run = state.runs.get(need);
      return [need, { result: run?.result ?? "skipped", outputs: run?.outputs ?? {} }];
    }),
  );
  const github = { ...state.github, job: job.id };
  const base = { github, inputs: state.inputs, vars: state.vars, needs };
  const grantsIdToken = job.permissions?.["id-token"] === "write" || job.permissions?.["*"] === "write";
  const record: JobRun = {
    id: job.id,
    result: "skipped",
    outputs: {},
    runsOn: [],
    permissions: job.permissions,
    secrets: !state.pull,
    idToken: grantsIdToken && !state.pull,
    cells: [],
  };
  let runs: boolean;
  try {
    runs = evaluateCondition(job.if, base, jobStatus(job, state));
  } catch (error) {
    throw new WorkflowError(`job ${job.id} if`, (error as Error).message);
  }
  if (!runs) {
    state.say(`── job ${job.id}: skipped (if: ${job.if})`);
    return record;
  }
  const strategy = (job.raw.strategy ?? {}) as Record<string, unknown>;
  const matrixValue = evaluateDeep(strategy.matrix, base);
  const cells = expandMatrix(matrixValue, `job ${job.id}`);
  const failFast =
    strategy["fail-fast"] === undefined ? true : evaluateDeep(strategy["fail-fast"], base) !== false;
  let stop = false;
  for (const [index, matrix] of cells.entries()) {
    const name = cellName(job.id, strategy.matrix === undefined ? {} : matrix);
    if (stop) {
      record.cells.push({
        name,
        matrix,
        result: "cancelled",
        outputs: {},
        steps: [],
        summary: "",
        annotations: [],
      });
      state.say(`── job ${name}: cancelled (fail-fast)`);
      continue;
    }
    const strategyContext = {
      "fail-fast": failFast,
      "job-index": index,
      "job-total": cells.length,
      "max-parallel": cells.length,
    };
    const cell = await runCell(job, name, { ...base, matrix, strategy: strategyContext }, state, record);
    record.cells.push(cell);
    if (cell.result === "failure" && failFast) stop = true;
  }
  const results = record.cells.map((cell) => cell.result);
  record.result = results.includes("failure")
    ? "failure"
    : results.includes("cancelled")
      ? "cancelled"
      : "success";
  // Every cell writes the same job outputs; the last one to set a value wins, as on GitHub.
  for (const cell of record.cells) {
    for (const [key, value] of Object.entries(cell.outputs)) if (value !== "") record.outputs[key] = value;
  }
  return record;
}
