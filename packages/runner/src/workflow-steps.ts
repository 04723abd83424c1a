import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { coerceString, evaluateTemplate } from "./expressions";
import { parseKeyValueFile, parsePathFile } from "./file-commands";
import { freshFileCommandFiles, readIfPresent } from "./step-files";
import { loadAction, runAction } from "./run-action";
import { downloadArtifact, uploadArtifact } from "./workflow-artifacts";
import { setupNode } from "./workflow-setup-node";
import { WorkflowError } from "./workflow-errors";
import { StepOutputProcessor, type Annotation } from "./workflow-commands";

/** What one step left behind, as the runner records it for later steps. */
export interface StepResult {
  failed: boolean;
  outputs: Record<string, string>;
  exportedEnv: Record<string, string>;
  addedPath: string[];
  summary: string;
  annotations: Annotation[];
}

export interface StepContext {
  where: string;
  /** The step's whole environment: job env, GITHUB_*, RUNNER_*, the step's own env. */
  env: Record<string, string>;
  contexts: Record<string, unknown>;
  workspace: string;
  /** Where the step's scratch files (script, file commands) go. */
  scratch: string;
  /** The workflow's own checkout, for `$/` references. */
  workflowRoot: string;
  masks: string[];
  debug: boolean;
  timeoutMs?: number;
  log: (line: string) => void;
}

/** The interpreter GitHub runs a `run:` script with on Linux, by `shell:`. */
export function shellCommand(shell: string | undefined, where: string): { command: string; args: string[] } {
  switch (shell ?? "") {
    case "":
      // No shell: GitHub uses `bash -e {0}` when bash is found: no pipefail, no --noprofile.
      return { command: "bash", args: ["-e"] };
    case "bash":
      return { command: "bash", args: ["--noprofile", "--norc", "-eo", "pipefail"] };
    case "sh":
      return { command: "sh", args: ["-e"] };
    default:
      throw new WorkflowError(where, `shell: '${shell}' is not supported by the local runner (bash, sh)`);
  }
}

export async function runScriptStep(step: StepContext, raw: Record<string, unknown>): Promise<StepResult> {
  const script = coerceString(evaluateTemplate(String(raw.run ?? ""), step.contexts));
  const shell =
    raw.shell === undefined ? undefined : coerceString(evaluateTemplate(String(raw.shell), step.contexts));
  const { command, args } = shellCommand(shell, step.where);
  const cwd =
    raw["working-directory"] === undefined
      ? step.workspace
      : resolve(
          step.workspace,
          coerceString(evaluateTemplate(String(raw["working-directory"]), step.contexts)),
        );
  const files = await freshFileCommandFiles(join(step.scratch, "files"));
  const file = join(step.scratch, "script.sh");
  await writeFile(file, script);
  const processor = new StepOutputProcessor("main", { masks: step.masks, showDebug: step.debug });
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(command, [...args, file], {
      cwd,
      env: { ...step.env, ...files },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer =
      step.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), step.timeoutMs);
    const pending = { stdout: "", stderr: "" };
    const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      const lines = (pending[stream] + chunk.toString("utf8")).split(/\r?\n/);
      pending[stream] = lines.pop() ?? "";
      for (const line of lines) {
        const shown = processor.push(line);
        if (shown !== undefined) step.log(shown);
      }
    };
    child.stdout.on("data", collect("stdout"));
    child.stderr.on("data", collect("stderr"));
    child.on("error", (error) =>
      reject(new WorkflowError(step.where, `could not start ${command}: ${error.message}`)),
    );
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      for (const rest of [pending.stdout, pending.stderr]) {
        const shown = rest === "" ? undefined : processor.push(rest);
        if (shown !== undefined) step.log(shown);
      }
      resolvePromise(code ?? 1);
    });
  });
  if (exitCode !== 0) step.log(`error: Process completed with exit code ${exitCode}.`);
  return {
    failed: exitCode !== 0,
    outputs: parseKeyValueFile(await readIfPresent(files.GITHUB_OUTPUT), "GITHUB_OUTPUT"),
    exportedEnv: parseKeyValueFile(await readIfPresent(files.GITHUB_ENV), "GITHUB_ENV"),
    addedPath: parsePathFile(await readIfPresent(files.GITHUB_PATH)),
    summary: processor.mask(await readIfPresent(files.GITHUB_STEP_SUMMARY)),
    annotations: processor.annotations,
  };
}

/** `with:` evaluated: every value a string, as an action receives it. */
function withInputs(raw: Record<string, unknown>, contexts: Record<string, unknown>): Record<string, string> {
  const given = (raw.with ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(given).map(([name, value]) => [
      name,
      coerceString(typeof value === "string" ? evaluateTemplate(value, contexts) : value),
    ]),
  );
}

const MODELLED =
  "$/… and ./… actions, actions/checkout, actions/setup-node, actions/upload-artifact, actions/download-artifact";
const REMOTE = ["checkout", "setup-node", "upload-artifact", "download-artifact"] as const;

/** Which action a `uses:` names, as the local runner can run it. */
export type UsesTarget = { kind: "local"; dir: string } | { kind: (typeof REMOTE)[number] };

export function usesTarget(uses: string, workflowRoot: string, workspace: string, where: string): UsesTarget {
  if (uses.startsWith("$/")) return { kind: "local", dir: resolve(workflowRoot, uses.slice(2)) };
  if (uses.startsWith("./")) return { kind: "local", dir: resolve(workspace, uses) };
  const remote = /^actions\/([a-z-]+)@\S+$/.exec(uses)?.[1];
  const kind = REMOTE.find((name) => name === remote);
  if (kind) return { kind };
  throw new WorkflowError(where, `uses: ${uses} is not supported by the local runner (it runs ${MODELLED})`);
}

const empty = (): StepResult => ({
  failed: false,
  outputs: {},
  exportedEnv: {},
  addedPath: [],
  summary: "",
  annotations: [],
});

export async function runUsesStep(step: StepContext, raw: Record<string, unknown>): Promise<StepResult> {
  const uses = String(raw.uses ?? "");
  const target = usesTarget(uses, step.workflowRoot, step.workspace, step.where);
  const inputs = withInputs(raw, step.contexts);
  if (target.kind === "checkout") {
    // The workspace given to the run is the checkout; fetching anything else is not modelled.
    const changing = ["repository", "ref", "path"].filter((name) => inputs[name]);
    if (changing.length > 0) {
      throw new WorkflowError(
        step.where,
        `actions/checkout: ${changing.join(", ")} not modelled (the workspace is the checkout)`,
      );
    }
    step.log(`actions/checkout (modelled): the workspace ${step.workspace} is the checkout`);
    return empty();
  }
  if (target.kind === "setup-node") {
    const { addedPath, message } = await setupNode(inputs, step.workspace, step.where);
    step.log(message);
    return { ...empty(), addedPath };
  }
  if (target.kind !== "local") {
    const processor = new StepOutputProcessor("main", { masks: step.masks, showDebug: step.debug });
    const log = (line: string) => {
      const shown = processor.push(line);
      if (shown !== undefined) step.log(shown);
    };
    const artifactStep = { where: step.where, inputs, env: step.env, log };
    try {
      const outputs = await (target.kind === "upload-artifact" ? uploadArtifact : downloadArtifact)(
        artifactStep,
      );
      return { ...empty(), outputs, annotations: processor.annotations };
    } catch (error) {
      if (error instanceof WorkflowError) throw error;
      // As the action would: the step fails with the library's message.
      log(`::error::${(error as Error).message}`);
      return { ...empty(), failed: true, annotations: processor.annotations };
    }
  }
  const actionDir = target.dir;
  const { metadata } = await loadAction(actionDir).catch((error: Error) => {
    throw new WorkflowError(step.where, `uses: ${uses}: ${error.message}`);
  });
  // The runner evaluates an input's default with the job's contexts (`${{ github.token }}`, …).
  for (const [name, input] of Object.entries(metadata.inputs)) {
    if (name in inputs || input.default === undefined || !input.default.includes("${{")) continue;
    inputs[name] = coerceString(evaluateTemplate(input.default, step.contexts));
  }
  const run = await runAction({
    actionDir,
    inputs,
    env: step.env,
    workdir: step.workspace,
    debug: step.debug,
    masks: step.masks,
    timeoutMs: step.timeoutMs,
    onLine: (line, _stream, which) => step.log(which === "post" ? `[post] ${line}` : line),
  });
  return {
    failed: run.failed,
    outputs: run.outputs,
    exportedEnv: run.exportedEnv,
    addedPath: run.addedPath,
    summary: run.summary,
    annotations: run.annotations,
  };
}
