#!/usr/bin/env node
// frostyard-build: runs an action locally the way GitHub's runner would (see USAGE).
import { resolve } from "node:path";
import { CliUsageError, parseCliArgs, USAGE, type WorkflowCliCommand } from "./cli-args";
import { describeHostedStore, startHostedServices } from "./hosted-services";
import { renderRunReport } from "./render";
import { findRepoRoot } from "./repo-root";
import { resolveActionDir } from "./resolve-action";
import { runAction } from "./run-action";
import { StepOutputProcessor } from "./workflow-commands";
import { renderWorkflowReport } from "./workflow-render";
import { runWorkflow } from "./workflow-run";

async function main(argv: string[]): Promise<number> {
  const command = parseCliArgs(argv);
  if (command.command === "help") {
    console.log(USAGE);
    return 0;
  }
  // `npm run cli` runs in the package root; npm keeps the directory it was called from in INIT_CWD.
  const cwd =
    process.env.npm_lifecycle_event === "cli" ? (process.env.INIT_CWD ?? process.cwd()) : process.cwd();
  if (command.command === "workflow") return workflow(command, cwd);
  const actionDir = resolveActionDir(command.action, cwd, findRepoRoot());
  const env = { ...command.env };
  // A workstation's token serves `${{ github.token }}` defaults; the runner-owned rest is not inherited.
  if (env.GITHUB_TOKEN === undefined && process.env.GITHUB_TOKEN) env.GITHUB_TOKEN = process.env.GITHUB_TOKEN;
  const services = await startServices(cwd, command.hostedServices);
  if (services) Object.assign(env, services.env);
  let run: Awaited<ReturnType<typeof runAction>>;
  try {
    run = await runAction({
      actionDir,
      inputs: command.inputs,
      env,
      workdir: resolve(cwd, command.workdir ?? "."),
      debug: command.debug,
      onLine: (line, stream, step) => {
        const text = step === "post" ? `[post] ${line}` : line;
        (stream === "stderr" ? process.stderr : process.stdout).write(`${text}\n`);
      },
    });
    if (services) {
      const held = describeHostedStore(services.store);
      console.error(`hosted services hold: ${held.length === 0 ? "nothing" : `\n  ${held.join("\n  ")}`}`);
    }
  } finally {
    await services?.stop();
  }
  const masker = new StepOutputProcessor("main", { masks: run.masks });
  console.log(`\n${renderRunReport(run, (text) => masker.mask(text))}`);
  if (run.exitCode !== 0) return run.exitCode;
  return run.failed ? 1 : 0;
}

async function startServices(cwd: string, option: { dir?: string } | undefined) {
  if (!option) return undefined;
  const services = await startHostedServices(
    option.dir === undefined ? {} : { dir: resolve(cwd, option.dir) },
  );
  console.error(
    `hosted services: results ${services.env.ACTIONS_RESULTS_URL}, blob storage ${services.blobs.account.endpoint} ` +
      `(azurite, pid ${services.blobs.pid}), storage in ${services.dir}${option.dir === undefined ? " (removed after the run)" : ""}`,
  );
  return services;
}

async function workflow(command: WorkflowCliCommand, cwd: string): Promise<number> {
  const secrets: Record<string, string> = {};
  for (const [name, variable] of Object.entries(command.secrets)) {
    const value = process.env[variable];
    if (value === undefined)
      throw new CliUsageError(`--secret ${name}: the environment variable ${variable} is not set`);
    secrets[name] = value;
  }
  const services = await startServices(cwd, command.hostedServices);
  try {
    const run = await runWorkflow({
      file: resolve(cwd, command.file),
      event: command.event,
      inputs: command.inputs,
      secrets,
      vars: command.vars,
      env: command.env,
      workdir: resolve(cwd, command.workdir ?? "."),
      debug: command.debug,
      ...(services ? { services } : {}),
      onLine: (line) => console.log(line),
    });
    const masker = new StepOutputProcessor("main", { masks: run.masks });
    console.log(`\n${renderWorkflowReport(run, (text) => masker.mask(text))}`);
    return run.failed ? 1 : 0;
  } finally {
    await services?.stop();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(
    error instanceof CliUsageError ? error.message : `frostyard-build: ${(error as Error).message ?? error}`,
  );
  process.exitCode = 2;
}
