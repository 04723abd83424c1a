import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { arch, platform } from "node:os";
import { delimiter, join } from "node:path";
import { coerceString, evaluateCondition, type JobStatus } from "./expressions";
import type { Annotation } from "./workflow-commands";
import { githubEnv } from "./workflow-context";
import { stepWhere, WorkflowError } from "./workflow-errors";
import type { LoadedJob } from "./workflow-load";
import type { MatrixCell } from "./workflow-matrix";
import { workflowRoot } from "./workflow-root";
import { runScriptStep, runUsesStep, type StepResult } from "./workflow-steps";
import type { CellRun, JobRun, Result, RunState, StepRecord } from "./workflow-types";
import { evaluateDeep, stringMap } from "./workflow-values";

const RUNNER_OS: Record<string, string> = { linux: "Linux", darwin: "macOS", win32: "Windows" };
const RUNNER_ARCH: Record<string, string> = { x64: "X64", arm64: "ARM64" };

/**
 * One matrix cell of a job: its steps in order, on this machine, with a RUNNER_TEMP of its own that is
 * removed afterwards, as a hosted runner's machine is discarded after its job.
 */
export async function runCell(
  job: LoadedJob,
  name: string,
  contexts: Record<string, unknown>,
  state: RunState,
  record: JobRun,
): Promise<CellRun> {
  const jobDir = await mkdtemp(join(state.runDir, `${job.id}-`));
  try {
    return await runCellIn(jobDir, job, name, contexts, state, record);
  } finally {
    await rm(jobDir, { recursive: true, force: true });
  }
}

async function runCellIn(
  jobDir: string,
  job: LoadedJob,
  name: string,
  contexts: Record<string, unknown>,
  state: RunState,
  record: JobRun,
): Promise<CellRun> {
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
