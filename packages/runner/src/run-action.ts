import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { arch, platform, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { assertRunnable, parseActionMetadata, type ActionMetadata } from "./action-metadata";
import { inputEnvName, isRunnerOwnedEnv, stateEnvName } from "./env-names";
import { evaluateDefault } from "./expressions";
import { parseKeyValueFile, parsePathFile } from "./file-commands";
import { freshFileCommandFiles, readIfPresent } from "./step-files";
import { findNode } from "./node-binary";
import { evaluatePostIf } from "./post-if";
import { findRepoRoot } from "./repo-root";
import { actionFile } from "./resolve-action";
import { StepOutputProcessor, type Annotation } from "./workflow-commands";

export interface RunActionOptions {
  /** The directory holding action.yml. */
  actionDir: string;
  /** `with:` values, by input name as written in action.yml. */
  inputs?: Record<string, string>;
  /** Extra environment for the steps; it may override runner defaults such as RUNNER_TOOL_CACHE. */
  env?: Record<string, string>;
  /** GITHUB_WORKSPACE and the steps' working directory; default: the current directory. */
  workdir?: string;
  /** Inherit this process's environment (minus runner-owned variables); default true. */
  inheritEnv?: boolean;
  /** Show `::debug::` lines in `log`, as RUNNER_DEBUG=1 does; default false. */
  debug?: boolean;
  /** Called with every displayed log line as it happens (the CLI prints them live). */
  onLine?: (line: string, stream: "stdout" | "stderr", step: StepName) => void;
  /** Kill a step that runs longer than this; default: no limit. */
  timeoutMs?: number;
  /** Keep RUNNER_TEMP and the file-command files after the run (their path is in the result). */
  keepTemp?: boolean;
  /** Values already masked (a workflow's secrets); the run adds its own `::add-mask::` values to it. */
  masks?: string[];
}

export type StepName = "main" | "post";

export interface StepRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Everything a run produced, as the runner would have recorded it. */
export interface ActionRun {
  /** The main step's exit code; non-zero means the action failed (`core.setFailed` sets 1). */
  exitCode: number;
  /** The run failed as a job would: main or post exited non-zero. */
  failed: boolean;
  outputs: Record<string, string>;
  /** Runner warnings (unexpected inputs, defaults it could not evaluate), then main's, then post's. */
  annotations: Annotation[];
  /** Main's job summary markdown followed by post's. */
  summary: string;
  /** Raw output of main, then post. */
  stdout: string;
  stderr: string;
  /** What the runner's log would show: commands processed, secrets replaced by `***`. */
  log: string[];
  /** Values registered with `::add-mask::`. */
  masks: string[];
  state: Record<string, string>;
  /** GITHUB_ENV and GITHUB_PATH additions of main, which later steps would see. */
  exportedEnv: Record<string, string>;
  addedPath: string[];
  main: StepRun;
  post?: StepRun;
  /** The post step's exit code when it ran; undefined when there is no post step or post-if said no. */
  postExitCode?: number;
  /** The run's scratch directory (RUNNER_TEMP etc.); removed after the run unless keepTemp. */
  tempDir: string;
}

const RUNNER_OS: Record<string, string> = { linux: "Linux", darwin: "macOS", win32: "Windows" };
const RUNNER_ARCH: Record<string, string> = { x64: "X64", arm64: "ARM64", ia32: "X86", arm: "ARM" };

/** Fresh file-command files for one step, as the runner makes per step. */
function stepFiles(root: string, step: StepName) {
  return freshFileCommandFiles(join(root, "files", step));
}

interface StepSpec {
  node: string;
  entry: string;
  cwd: string;
  env: Record<string, string>;
  processor: StepOutputProcessor;
  log: string[];
  step: StepName;
  onLine?: RunActionOptions["onLine"];
  timeoutMs?: number;
}

function runStep(spec: StepSpec): Promise<StepRun> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(spec.node, [spec.entry], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const raw = { stdout: "", stderr: "" };
    const pending = { stdout: "", stderr: "" };
    let timedOut = false;
    const timer =
      spec.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, spec.timeoutMs);

    const emit = (line: string, stream: "stdout" | "stderr") => {
      // The runner reads commands from both streams.
      const shown = spec.processor.push(line);
      if (shown === undefined) return;
      spec.log.push(shown);
      spec.onLine?.(shown, stream, spec.step);
    };
    const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      raw[stream] += text;
      const lines = (pending[stream] + text).split(/\r?\n/);
      pending[stream] = lines.pop() ?? "";
      for (const line of lines) emit(line, stream);
    };
    child.stdout.on("data", collect("stdout"));
    child.stderr.on("data", collect("stderr"));
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`could not start ${spec.node} ${spec.entry}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      for (const stream of ["stdout", "stderr"] as const)
        if (pending[stream] !== "") emit(pending[stream], stream);
      if (timedOut)
        emit(`::error::${spec.step} step timed out after ${spec.timeoutMs} ms and was killed`, "stderr");
      else if (signal) emit(`::error::${spec.step} step was killed by ${signal}`, "stderr");
      resolvePromise({
        exitCode: code ?? 1,
        stdout: raw.stdout,
        stderr: raw.stderr,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/** Reads and checks action.yml; throws naming the file when it is missing or cannot run here. */
export async function loadAction(actionDir: string): Promise<{ file: string; metadata: ActionMetadata }> {
  const file = actionFile(actionDir);
  if (!file) throw new Error(`${actionDir}: no action.yml (or action.yaml) found`);
  const metadata = parseActionMetadata(await readFile(file, "utf8"), file);
  assertRunnable(metadata, file);
  return { file, metadata };
}

/**
 * Runs a node24 action the way GitHub's runner does: inputs as INPUT_* (defaults applied), fresh
 * GITHUB_OUTPUT/STATE/STEP_SUMMARY/ENV/PATH files per step, `node <main>` in the workspace, then the post
 * step (if `post-if` allows) with main's state as STATE_*. It never throws for a failing action: the
 * failure is in the result. It throws only when the action cannot be run at all.
 */
export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const actionDir = resolve(options.actionDir);
  const { file, metadata } = await loadAction(actionDir);
  const main = resolve(actionDir, metadata.runs.main as string);
  if (!existsSync(main)) {
    throw new Error(
      `${file}: runs.main '${metadata.runs.main}' does not exist (${main}); run \`npm run build\``,
    );
  }
  const post = metadata.runs.post ? resolve(actionDir, metadata.runs.post) : undefined;
  if (post && !existsSync(post)) {
    throw new Error(
      `${file}: runs.post '${metadata.runs.post}' does not exist (${post}); run \`npm run build\``,
    );
  }
  const node = findNode(findRepoRoot());
  const workdir = resolve(options.workdir ?? process.cwd());
  const tempDir = await mkdtemp(join(tmpdir(), "frostyard-run-"));

  try {
    const inherited: Record<string, string> = {};
    if (options.inheritEnv ?? true) {
      for (const [name, value] of Object.entries(process.env)) {
        if (value !== undefined && !isRunnerOwnedEnv(name)) inherited[name] = value;
      }
    }
    const runnerEnv: Record<string, string> = {
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: workdir,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_API_URL: "https://api.github.com",
      GITHUB_GRAPHQL_URL: "https://api.github.com/graphql",
      RUNNER_OS: RUNNER_OS[platform()] ?? platform(),
      RUNNER_ARCH: RUNNER_ARCH[arch()] ?? arch(),
      RUNNER_NAME: "frostyard-local",
      RUNNER_TEMP: join(tempDir, "temp"),
      RUNNER_TOOL_CACHE: join(tempDir, "tool-cache"),
      ...(options.debug ? { RUNNER_DEBUG: "1" } : {}),
    };
    const jobEnv = { ...inherited, ...runnerEnv, ...options.env };
    await mkdir(jobEnv.RUNNER_TEMP as string, { recursive: true });
    await mkdir(jobEnv.RUNNER_TOOL_CACHE as string, { recursive: true });

    const runnerAnnotations: Annotation[] = [];
    const warn = (message: string) => runnerAnnotations.push({ level: "warning", message, step: "runner" });
    const inputEnv: Record<string, string> = {};
    const given = options.inputs ?? {};
    const unexpected = Object.keys(given).filter((name) => !(name in metadata.inputs));
    if (unexpected.length > 0) {
      warn(
        `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${Object.keys(metadata.inputs).join("', '")}']`,
      );
    }
    for (const [name, input] of Object.entries(metadata.inputs)) {
      if (name in given) continue;
      if (input.default === undefined) continue;
      const evaluated = evaluateDefault(input.default, jobEnv);
      if (evaluated.unresolved.length > 0) {
        warn(
          `input '${name}': the local runner cannot evaluate ${evaluated.unresolved.join(", ")} in its default; ` +
            `left empty (pass --input ${name}=… or set the variable it reads)`,
        );
      }
      inputEnv[inputEnvName(name)] = evaluated.value;
    }
    for (const [name, value] of Object.entries(given)) inputEnv[inputEnvName(name)] = value;

    const masks: string[] = options.masks ?? [];
    const log: string[] = [];
    const mainFiles = await stepFiles(tempDir, "main");
    const mainProcessor = new StepOutputProcessor("main", { masks, showDebug: options.debug });
    const mainRun = await runStep({
      node,
      entry: main,
      cwd: workdir,
      env: { ...jobEnv, ...inputEnv, ...mainFiles },
      processor: mainProcessor,
      log,
      step: "main",
      onLine: options.onLine,
      timeoutMs: options.timeoutMs,
    });

    const outputs = parseKeyValueFile(await readIfPresent(mainFiles.GITHUB_OUTPUT), "GITHUB_OUTPUT");
    const state = parseKeyValueFile(await readIfPresent(mainFiles.GITHUB_STATE), "GITHUB_STATE");
    const exportedEnv = parseKeyValueFile(await readIfPresent(mainFiles.GITHUB_ENV), "GITHUB_ENV");
    const addedPath = parsePathFile(await readIfPresent(mainFiles.GITHUB_PATH));
    let summary = await readIfPresent(mainFiles.GITHUB_STEP_SUMMARY);
    const failed = mainRun.exitCode !== 0;

    let postRun: StepRun | undefined;
    let postProcessor: StepOutputProcessor | undefined;
    if (post && evaluatePostIf(metadata.runs.postIf, { mainSucceeded: !failed })) {
      const postFiles = await stepFiles(tempDir, "post");
      const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [stateEnvName(k), v]));
      const basePath = exportedEnv.PATH ?? jobEnv.PATH ?? "";
      // Later GITHUB_PATH lines come first, as with repeated add-path on the runner.
      const path = [...addedPath]
        .reverse()
        .concat(basePath === "" ? [] : [basePath])
        .join(delimiter);
      postProcessor = new StepOutputProcessor("post", { masks, showDebug: options.debug });
      postRun = await runStep({
        node,
        entry: post,
        cwd: workdir,
        env: { ...jobEnv, ...exportedEnv, PATH: path, ...inputEnv, ...stateEnv, ...postFiles },
        processor: postProcessor,
        log,
        step: "post",
        onLine: options.onLine,
        timeoutMs: options.timeoutMs,
      });
      summary += await readIfPresent(postFiles.GITHUB_STEP_SUMMARY);
    }

    const mask = (text: string) => mainProcessor.mask(text);
    return {
      exitCode: mainRun.exitCode,
      failed: failed || (postRun !== undefined && postRun.exitCode !== 0),
      outputs,
      annotations: [
        ...runnerAnnotations,
        ...mainProcessor.annotations,
        ...(postProcessor?.annotations ?? []),
      ],
      summary: mask(summary),
      stdout: mainRun.stdout + (postRun?.stdout ?? ""),
      stderr: mainRun.stderr + (postRun?.stderr ?? ""),
      log,
      masks,
      state,
      exportedEnv,
      addedPath,
      main: mainRun,
      post: postRun,
      postExitCode: postRun?.exitCode,
      tempDir,
    };
  } finally {
    if (!options.keepTemp) await rm(tempDir, { recursive: true, force: true });
  }
}
