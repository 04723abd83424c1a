import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parse as parseYaml } from "yaml";
import type { InputDefinition } from "./workflow-context";
import { stepWhere, WorkflowError } from "./workflow-errors";

type Raw = Record<string, unknown>;

export interface LoadedStep {
  index: number;
  /** The step's id; the parser's generated one (`__run`, `__actions_checkout`) when it has none. */
  id: string;
  /** The condition as GitHub's converter left it: `success() && (…)` unless a status function is named. */
  if: string;
  raw: Raw;
}

export interface LoadedJob {
  id: string;
  needs: string[];
  if: string;
  raw: Raw;
  steps: LoadedStep[];
  /** The job's own permissions, else the workflow's; undefined when neither says (GitHub's defaults). */
  permissions?: Record<string, string>;
}

export interface LoadedWorkflow {
  file: string;
  name: string;
  env: Raw;
  inputs: Record<string, InputDefinition>;
  secrets: Record<string, { required?: boolean }>;
  /** workflow_call outputs: name → `${{ jobs.<job>.outputs.<name> }}` */
  outputs: Record<string, string>;
  jobs: LoadedJob[];
}

/** Job keys the local runner does not model; running past them would silently do something else. */
const UNSUPPORTED_JOB_KEYS: Record<string, string> = {
  uses: "calling a reusable workflow from a job",
  container: "running a job in a container",
  services: "service containers",
  environment: "deployment environments (their secrets and protection rules)",
  defaults: "job defaults (defaults.run)",
};
const UNSUPPORTED_WORKFLOW_KEYS: Record<string, string> = {
  defaults: "workflow defaults (defaults.run)",
};

const isObject = (value: unknown): value is Raw =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function permissionsOf(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (value === "read-all" || value === "write-all") return { "*": value.slice(0, -4) };
  return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])) : {};
}

/**
 * Reads a workflow through GitHub's parser (@actions/workflow-parser): its errors refuse the file, and its
 * converted template gives the jobs, their `needs` and the `if:` conditions as the runner sees them. The
 * step and job bodies (`with`, `env`, `strategy`, `outputs`, `permissions`) are read from the YAML itself
 * and evaluated later with @actions/expressions.
 */
export async function loadWorkflow(file: string): Promise<LoadedWorkflow> {
  const content = await readFile(file, "utf8");
  const parsed = parseWorkflow({ name: basename(file), content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value) {
    throw new WorkflowError(file, `GitHub's workflow parser refused it:\n  ${errors.join("\n  ")}`);
  }
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const converted = (template.errors ?? []).map((e) => e.Message);
  if (converted.length > 0) {
    throw new WorkflowError(file, `GitHub's workflow parser refused it:\n  ${converted.join("\n  ")}`);
  }
  const raw = parseYaml(content) as Raw;
  for (const [key, feature] of Object.entries(UNSUPPORTED_WORKFLOW_KEYS)) {
    if (key in raw) throw new WorkflowError(file, `${key}: ${feature} is not supported by the local runner`);
  }
  const rawJobs = (raw.jobs ?? {}) as Record<string, Raw>;
  const on = (isObject(raw.on) ? raw.on : {}) as Raw;
  const call = (isObject(on.workflow_call) ? on.workflow_call : {}) as Raw;
  const callOutputs = (isObject(call.outputs) ? call.outputs : {}) as Record<string, Raw>;
  const events = template.events.workflow_call;

  const jobs: LoadedJob[] = template.jobs.map((job) => {
    const id = String(job.id.value);
    const rawJob = rawJobs[id] ?? {};
    for (const [key, feature] of Object.entries(UNSUPPORTED_JOB_KEYS)) {
      if (key in rawJob) {
        throw new WorkflowError(`job ${id}`, `${key}: ${feature} is not supported by the local runner`);
      }
    }
    if (job.type !== "job") throw new WorkflowError(`job ${id}`, "only jobs with steps are supported");
    const rawSteps = (rawJob.steps ?? []) as Raw[];
    const steps = job.steps.map((step, index): LoadedStep => {
      const rawStep = rawSteps[index] ?? {};
      const where = stepWhere(id, index, step.id);
      if (!("run" in rawStep) && !("uses" in rawStep)) {
        throw new WorkflowError(where, "only run: and uses: steps are supported");
      }
      return {
        index,
        id: step.id,
        if: "if" in step && step.if ? step.if.expression : "success()",
        raw: rawStep,
      };
    });
    return {
      id,
      needs: (job.needs ?? []).map((need) => String(need.value)),
      if: job.if.expression,
      raw: rawJob,
      steps,
      permissions: permissionsOf(rawJob.permissions ?? raw.permissions),
    };
  });

  return {
    file,
    name: typeof raw.name === "string" ? raw.name : basename(file),
    env: isObject(raw.env) ? raw.env : {},
    inputs: Object.fromEntries(
      Object.entries(events?.inputs ?? {}).map(([name, input]) => [
        name,
        { type: input.type, required: input.required, default: input.default },
      ]),
    ),
    secrets: Object.fromEntries(
      Object.entries(events?.secrets ?? {}).map(([name, secret]) => [name, { required: secret.required }]),
    ),
    outputs: Object.fromEntries(
      Object.entries(callOutputs).map(([name, output]) => [name, String(output.value ?? "")]),
    ),
    jobs,
  };
}
