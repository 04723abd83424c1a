import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { arch, platform, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { coerceString, evaluateCondition, evaluateTemplate, type JobStatus } from "./expressions";
import type { HostedServices } from "./hosted-services";
import { githubContext, githubEnv, inputsContext, type WorkflowEvent } from "./workflow-context";
import { stepWhere, WorkflowError } from "./workflow-errors";
import { ancestors, jobOrder } from "./workflow-graph";
import { loadWorkflow, type LoadedJob, type LoadedWorkflow } from "./workflow-load";
import { cellName, expandMatrix, type MatrixCell } from "./workflow-matrix";
import { runScriptStep, runUsesStep, type StepResult } from "./workflow-steps";
import type { Annotation } from "./workflow-commands";

export type Result = "success" | "failure" | "cancelled" | "skipped";

export interface RunWorkflowOptions {
  /** The workflow file; `$/` references resolve to the repository holding it (…/.github/workflows/x.yml). */
  file: string;
  event: WorkflowEvent;
  inputs?: Record<string, string>;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** Environment every step gets on top of this process's (tool locations, a toolbox's PATH). */
  env?: Record<string, string>;
  /** GITHUB_WORKSPACE: the caller's checkout; default the current directory. */
  workdir?: string;
  /** The loopback artifact/cache services; artifact steps need them. */
  services?: HostedServices;
  repository?: string;
  sha?: string;
  ref?: string;
  defaultBranch?: string;
  actor?: string;
  debug?: boolean;
  /** Kill a step that runs longer than this. */
  stepTimeoutMs?: number;
  onLine?: (line: string) => void;
}

export interface StepRecord {
  id: string;
  uses?: string;
  outcome: Result;
  conclusion: Result;
  outputs: Record<string, string>;
}

export interface CellRun {
  name: string;
  matrix: MatrixCell;
  result: Result;
  outputs: Record<string, string>;
  steps: StepRecord[];
  summary: string;
  annotations: Annotation[];
}

/** What the run recorded for one job: GitHub's view (result, outputs), what it was granted, its cells. */
export interface JobRun {
  id: string;
  result: Result;
  /** Job outputs as `needs.<id>.outputs` shows them: a matrix job's are last-writer-wins, as on GitHub. */
  outputs: Record<string, string>;
  /** runs-on as evaluated per cell; recorded, not honoured: every cell runs on this machine. */
  runsOn: string[];
  /** The job's permissions as written (the workflow's when the job names none). */
  permissions?: Record<string, string>;
  /** Whether its steps were given secrets and an id-token (never on a pull request). */
  secrets: boolean;
  idToken: boolean;
  cells: CellRun[];
}

export interface WorkflowRun {
  jobs: JobRun[];
  outputs: Record<string, string>;
  failed: boolean;
  log: string[];
  masks: string[];
}

const RUNNER_OS: Record<string, string> = { linux: "Linux", darwin: "macOS", win32: "Windows" };
const RUNNER_ARCH: Record<string, string> = { x64: "X64", arm64: "ARM64" };

/** A template value evaluated deeply: mapping keys stay, every string is a `${{ }}` template. */
function evaluateDeep(value: unknown, contexts: Record<string, unknown>): unknown {
  if (typeof value === "string") return evaluateTemplate(value, contexts);
  if (Array.isArray(value)) return value.map((item) => evaluateDeep(item, contexts));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateDeep(v, contexts)]));
  }
  return value;
}

function stringMap(value: unknown, contexts: Record<string, unknown>): Record<string, string> {
  if (value === undefined || value === null) return {};
  const evaluated = evaluateDeep(value, contexts) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(evaluated).map(([k, v]) => [k, coerceString(v)]));
}

/** The repository a workflow file belongs to: the directory above `.github/workflows/`. */
export function workflowRoot(file: string): string {
  const dir = dirname(resolve(file));
  return /[/\\]\.github[/\\]workflows$/.test(dir) ? resolve(dir, "../..") : dir;
}

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
  const runDir = await mkdtemp(join(tmpdir(), "frostyard-workflow-"));
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

interface RunState {
  workflow: LoadedWorkflow;
  options: RunWorkflowOptions;
  runs: Map<string, JobRun>;
  github: Record<string, unknown>;
  inputs: Record<string, unknown>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  masks: string[];
  workspace: string;
  runDir: string;
  eventPath: string;
  say: (line: string) => void;
  pull: boolean;
  /** This run's id at the results service: artifacts belong to one run, as on GitHub. */
  runBackendId: string;
}

function jobStatus(job: LoadedJob, state: RunState): JobStatus {
  const results = ancestors(job.id, state.workflow.jobs).map((id) => state.runs.get(id)?.result);
  return {
    success: () => results.every((result) => result === "success"),
    failure: () => results.some((result) => result === "failure"),
    cancelled: () => results.some((result) => result === "cancelled"),
  };
}

async function runJob(job: LoadedJob, state: RunState): Promise<JobRun> {
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

async function runCell(
  job: LoadedJob,
  name: string,
  contexts: Record<string, unknown>,
  state: RunState,
  record: JobRun,
): Promise<CellRun> {
  const jobDir = await mkdtemp(join(state.runDir, `${job.id}-`));
  const temp = join(jobDir, "temp");
  const toolCache = state.options.env?.RUNNER_TOOL_CACHE ?? join(jobDir, "tool-cache");
  await mkdir(temp, { recursive: true });
  await mkdir(toolCache, { recursive: true });
  const runsOn = coerceString(evaluateDeep(job.raw["runs-on"], contexts));
  record.runsOn.push(runsOn);
  state.say(`── job ${name} (runs-on: ${runsOn || "none"}, recorded; runs here)`);
  const runner = {
    os: RUNNER_OS[platform()] ?? platform(),
    arch: RUNNER_ARCH[arch()] ?? arch(),
    name: "frostyard-local",
    temp,
    tool_cache: toolCache,
    debug: state.options.debug ? "1" : "",
  };
  const services = state.options.services;
  const serviceEnv: Record<string, string> = services
    ? {
        ...services.env,
        // Each job gets its own job id in the token, as each job on GitHub does; artifacts are per run.
        ACTIONS_RUNTIME_TOKEN: services.token({
          workflowRunBackendId: state.runBackendId,
          workflowJobRunBackendId: randomUUID(),
        }),
      }
    : {};
  const cellContexts: Record<string, unknown> = {
    ...contexts,
    // A fork's pull request still gets GITHUB_TOKEN (read-only there); nothing else.
    secrets: { ...state.secrets, GITHUB_TOKEN: (contexts.github as { token: string }).token },
    runner,
    job: { status: "success" },
    steps: {},
    env: {},
  };
  const jobEnv = {
    ...stringMap(state.workflow.env, cellContexts),
  };
  Object.assign(jobEnv, stringMap(job.raw.env, { ...cellContexts, env: jobEnv }));
  const exported: Record<string, string> = {};
  const addedPath: string[] = [];
  const steps: Record<string, { outputs: Record<string, string>; outcome: Result; conclusion: Result }> = {};
  const stepRecords: StepRecord[] = [];
  const annotations: Annotation[] = [];
  let summary = "";
  let failed = false;

  for (const step of job.steps) {
    const where = stepWhere(name, step.index, step.id);
    const env = { ...jobEnv, ...exported };
    const stepContexts = { ...cellContexts, steps, env, job: { status: failed ? "failure" : "success" } };
    const status: JobStatus = {
      success: () => !failed,
      failure: () => failed,
      cancelled: () => false,
    };
    const uses = step.raw.uses === undefined ? undefined : String(step.raw.uses);
    let runs: boolean;
    try {
      runs = evaluateCondition(step.if, stepContexts, status);
    } catch (error) {
      throw new WorkflowError(`${where} if`, (error as Error).message);
    }
    if (!runs) {
      steps[step.id] = { outputs: {}, outcome: "skipped", conclusion: "skipped" };
      stepRecords.push({ id: step.id, uses, outcome: "skipped", conclusion: "skipped", outputs: {} });
      continue;
    }
    state.say(`▷ ${where}: ${uses ? `uses: ${uses}` : "run"}`);
    const stepEnv = { ...env, ...stringMap(step.raw.env, stepContexts) };
    const basePath = stepEnv.PATH ?? state.options.env?.PATH ?? process.env.PATH ?? "";
    const path = [...addedPath]
      .reverse()
      .concat(basePath === "" ? [] : [basePath])
      .join(delimiter);
    const fullEnv: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      ...state.options.env,
      CI: "true",
      GITHUB_ACTIONS: "true",
      ...githubEnv(cellContexts.github as Record<string, unknown>, state.eventPath),
      RUNNER_OS: runner.os,
      RUNNER_ARCH: runner.arch,
      RUNNER_NAME: runner.name,
      RUNNER_TEMP: temp,
      RUNNER_TOOL_CACHE: toolCache,
      ...(state.options.debug ? { RUNNER_DEBUG: "1" } : {}),
      ...serviceEnv,
      ...stepEnv,
      PATH: path,
    };
    const scratch = await mkdtemp(join(jobDir, "step-"));
    const context = {
      where,
      env: fullEnv,
      contexts: { ...stepContexts, env: stepEnv },
      workspace: state.workspace,
      scratch,
      workflowRoot: workflowRoot(state.options.file),
      masks: state.masks,
      debug: state.options.debug ?? false,
      timeoutMs: state.options.stepTimeoutMs,
      log: state.say,
    };
    const result: StepResult =
      uses === undefined ? await runScriptStep(context, step.raw) : await runUsesStep(context, step.raw);
    const continueOnError =
      step.raw["continue-on-error"] !== undefined &&
      coerceString(evaluateDeep(step.raw["continue-on-error"], stepContexts)) === "true";
    const outcome: Result = result.failed ? "failure" : "success";
    const conclusion: Result = result.failed && !continueOnError ? "failure" : "success";
    if (conclusion === "failure") failed = true;
    Object.assign(exported, result.exportedEnv);
    addedPath.push(...result.addedPath);
    summary += result.summary;
    annotations.push(...result.annotations);
    steps[step.id] = { outputs: result.outputs, outcome, conclusion };
    stepRecords.push({ id: step.id, uses, outcome, conclusion, outputs: result.outputs });
  }
  const outputContexts = { ...cellContexts, steps, env: { ...jobEnv, ...exported } };
  const outputs = stringMap(job.raw.outputs, outputContexts);
  const result: Result = failed ? "failure" : "success";
  state.say(`── job ${name}: ${result}`);
  return {
    name,
    matrix: contexts.matrix as MatrixCell,
    result,
    outputs,
    steps: stepRecords,
    summary,
    annotations,
  };
}
