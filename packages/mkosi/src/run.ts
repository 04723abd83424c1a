import { ExecError, execStreaming, type Logger } from "@frostyard/kit";
import { buildArgv, summaryArgv, type MkosiOptions } from "./argv";
import type { BuildVariable } from "./environment";
import { parseSummary, type MkosiImage } from "./mkosi-summary";
import { PASSED_THROUGH, withSudo } from "./sudo";
import { parseMkosiVersion, type MkosiVersion } from "./version";

/** How to start mkosi: which launcher, with sudo or not, and what environment it gets. */
export interface MkosiRunner {
  /** Absolute path (a sudo'ed command cannot rely on our PATH). */
  command: string;
  sudo: boolean;
  variables: readonly BuildVariable[];
  /** The environment mkosi starts from (the build's injected one); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** SOURCE_DATE_EPOCH, TMPDIR and the like; their names are preserved through sudo. */
  extraEnv: Record<string, string>;
  logger: Logger;
}

function environment(runner: MkosiRunner): { env: Record<string, string | undefined>; names: string[] } {
  const env: Record<string, string | undefined> = { ...(runner.env ?? process.env), ...runner.extraEnv };
  for (const variable of runner.variables) env[variable.name] = variable.value;
  const names = [
    ...runner.variables.map((v) => v.name),
    ...PASSED_THROUGH.filter((name) => env[name] !== undefined),
  ];
  return { env, names };
}

function secretsOf(runner: MkosiRunner): string[] {
  return runner.variables.filter((v) => v.secret).map((v) => v.value);
}

export async function mkosiVersion(runner: MkosiRunner): Promise<MkosiVersion> {
  const { command, args } = withSudo(runner.command, ["--version"], false, []);
  const result = await execStreaming(command, args, {
    logger: runner.logger,
    env: environment(runner).env,
    captureStdout: true,
    echoCommand: false,
  });
  return parseMkosiVersion(result.stdout);
}

/**
 * `mkosi --json summary` for the build's options. Its JSON holds the `-E` values (Environment), so it is
 * never echoed, not even at debug level.
 */
export async function mkosiSummary(runner: MkosiRunner, options: MkosiOptions): Promise<MkosiImage[]> {
  const { env, names } = environment(runner);
  const { command, args } = withSudo(runner.command, summaryArgv(options), runner.sudo, names);
  const result = await execStreaming(command, args, {
    logger: runner.logger,
    env,
    captureStdout: true,
    onStdoutLine: () => {},
    secrets: secretsOf(runner),
  }).catch((error: unknown) => {
    throw failure("mkosi --json summary", error);
  });
  return parseSummary(result.stdout, options.directory);
}

/** Runs the build with mkosi's log streamed line by line; a failure carries mkosi's last lines. */
export async function mkosiBuild(runner: MkosiRunner, options: MkosiOptions): Promise<void> {
  const { env, names } = environment(runner);
  const { command, args } = withSudo(runner.command, buildArgv(options), runner.sudo, names);
  await execStreaming(command, args, {
    logger: runner.logger,
    env,
    secrets: secretsOf(runner),
    stderrTailLines: 25,
  }).catch((error: unknown) => {
    throw failure("mkosi build", error);
  });
}

/** mkosi reports on stderr; its last non-blank lines say what went wrong. */
export function failure(what: string, error: unknown): Error {
  if (!(error instanceof ExecError)) return error instanceof Error ? error : new Error(String(error));
  const lines = error.stderrTail.filter((line) => line.trim() !== "").slice(-15);
  const ended =
    error.exitCode !== undefined
      ? `exited with code ${error.exitCode}`
      : error.signal
        ? `was killed by ${error.signal}`
        : "could not start";
  const detail =
    lines.length > 0 ? `; its last lines:\n${lines.join("\n")}` : error.message ? `: ${error.message}` : "";
  // The tail is the whole story; chaining the ExecError would repeat it.
  return new Error(`${what} ${ended}${detail}`);
}
