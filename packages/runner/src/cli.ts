#!/usr/bin/env node
// frostyard-build: runs an action locally the way GitHub's runner would (see USAGE).
import { resolve } from "node:path";
import { CliUsageError, parseCliArgs, USAGE } from "./cli-args";
import { describeHostedStore, startHostedServices, type HostedServices } from "./hosted-services";
import { renderRunReport } from "./render";
import { findRepoRoot } from "./repo-root";
import { resolveActionDir } from "./resolve-action";
import { runAction } from "./run-action";
import { StepOutputProcessor } from "./workflow-commands";

async function main(argv: string[]): Promise<number> {
  const command = parseCliArgs(argv);
  if (command.command === "help") {
    console.log(USAGE);
    return 0;
  }
  // `npm run cli` runs in the package root; npm keeps the directory it was called from in INIT_CWD.
  const cwd =
    process.env.npm_lifecycle_event === "cli" ? (process.env.INIT_CWD ?? process.cwd()) : process.cwd();
  const actionDir = resolveActionDir(command.action, cwd, findRepoRoot());
  const env = { ...command.env };
  // A workstation's token serves `${{ github.token }}` defaults; the runner-owned rest is not inherited.
  if (env.GITHUB_TOKEN === undefined && process.env.GITHUB_TOKEN) env.GITHUB_TOKEN = process.env.GITHUB_TOKEN;
  let services: HostedServices | undefined;
  if (command.hostedServices) {
    const dir = command.hostedServices.dir;
    services = await startHostedServices(dir === undefined ? {} : { dir: resolve(cwd, dir) });
    Object.assign(env, services.env);
    console.error(
      `hosted services: results ${services.env.ACTIONS_RESULTS_URL}, blob storage ${services.blobs.account.endpoint} ` +
        `(azurite, pid ${services.blobs.pid}), storage in ${services.dir}${dir === undefined ? " (removed after the run)" : ""}`,
    );
  }
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

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(
    error instanceof CliUsageError ? error.message : `frostyard-build: ${(error as Error).message ?? error}`,
  );
  process.exitCode = 2;
}
