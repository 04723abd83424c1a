/** What `frostyard-build run …` was asked to do. */
export interface RunCommand {
  command: "run";
  action: string;
  inputs: Record<string, string>;
  env: Record<string, string>;
  workdir?: string;
  debug: boolean;
  /** Serve GitHub's cache and artifact services on loopback for the run; `dir` keeps their storage. */
  hostedServices?: { dir?: string };
}

/** What `frostyard-build workflow …` was asked to do. */
export interface WorkflowCliCommand {
  command: "workflow";
  file: string;
  event: "push" | "pull_request";
  inputs: Record<string, string>;
  /** Secret name → the environment variable its value is read from (values never travel on argv). */
  secrets: Record<string, string>;
  vars: Record<string, string>;
  env: Record<string, string>;
  workdir?: string;
  debug: boolean;
  hostedServices?: { dir?: string };
}

export type CliCommand = RunCommand | WorkflowCliCommand | { command: "help" };

export const USAGE = `usage: frostyard-build run <action> [--input name=value]… [--env NAME=VALUE]… [--workdir DIR] [--debug]
                          [--hosted-services[=DIR]]
       frostyard-build workflow <file> [--event push|pull_request] [--input name=value]… [--secret NAME[=VAR]]…
                          [--var name=value]… [--env NAME=VALUE]… [--workdir DIR] [--debug] [--hosted-services[=DIR]]

  run              runs one action as GitHub's runner would
  workflow         runs a workflow's jobs in needs order, matrices expanded, every \${{ }} through GitHub's
                   evaluator; steps through the same runner (docs/workflow.md says what it models)
  <action>         a name under actions/ (e.g. pin-digest), a directory holding action.yml, or . for the root action
  <file>           a workflow file (e.g. .github/workflows/build.yml); $/ actions resolve to its repository
  -i, --input      an action or workflow input, name=value (repeatable; the value may contain '=')
  -e, --env        an environment variable for every step, NAME=VALUE (repeatable)
      --event      the event the workflow runs for: push (default) or pull_request (modelled as a fork's:
                   no secrets, no id-token)
      --secret     a workflow secret, read from the environment variable VAR (default: NAME), so its value
                   never appears on a command line (repeatable)
      --var        a configuration variable (the vars context), name=value (repeatable)
  -w, --workdir    the workspace (GITHUB_WORKSPACE): the checkout; default: the current directory
      --debug      show ::debug:: lines (as RUNNER_DEBUG=1 does)
      --hosted-services[=DIR]
                   serve GitHub's cache and artifact services on 127.0.0.1 for the run (a results service
                   and Azure blob storage from the azurite devDependency) and give the action
                   ACTIONS_RESULTS_URL and a runtime token, so @actions/cache and @actions/artifact take the
                   path they take on a GitHub-hosted runner; with =DIR their storage is kept in DIR, so a
                   later run restores what this one saved
  -h, --help       this text`;

export class CliUsageError extends Error {
  constructor(problem: string) {
    super(`${problem}\n\n${USAGE}`);
    this.name = "CliUsageError";
  }
}

function pair(flag: string, raw: string, what: string): [string, string] {
  const equals = raw.indexOf("=");
  if (equals <= 0) throw new CliUsageError(`${flag} '${raw}': expected ${what}=value`);
  return [raw.slice(0, equals), raw.slice(equals + 1)];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WORKFLOW_ONLY = new Set(["--event", "--secret", "--var"]);

export function parseCliArgs(argv: readonly string[]): CliCommand {
  if (argv.length === 0) throw new CliUsageError("missing command");
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === "help") return { command: "help" };
  if (command !== "run" && command !== "workflow") {
    throw new CliUsageError(`unknown command '${command}'; expected run or workflow`);
  }

  const common = { inputs: {} as Record<string, string>, env: {} as Record<string, string>, debug: false };
  const extra = {
    event: "push" as WorkflowCliCommand["event"],
    secrets: {} as Record<string, string>,
    vars: {} as Record<string, string>,
  };
  let workdir: string | undefined;
  let hostedServices: { dir?: string } | undefined;
  const positional: string[] = [];
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] ?? "";
    const inline = /^(--[a-z][a-z-]*)=(.*)$/s.exec(arg);
    const flag = inline ? (inline[1] ?? "") : arg;
    const value = (): string => {
      if (inline) return inline[2] ?? "";
      const next = rest[++index];
      if (next === undefined) throw new CliUsageError(`${flag} needs a value`);
      return next;
    };
    if (command === "run" && WORKFLOW_ONLY.has(flag)) {
      throw new CliUsageError(`${flag} is an option of 'workflow', not of 'run'`);
    }
    switch (flag) {
      case "-i":
      case "--input": {
        const [name, text] = pair(flag, value(), "name");
        common.inputs[name] = text;
        break;
      }
      case "-e":
      case "--env": {
        const [name, text] = pair(flag, value(), "NAME");
        if (!ENV_NAME.test(name)) {
          throw new CliUsageError(`${flag} '${name}': not a valid environment variable name`);
        }
        common.env[name] = text;
        break;
      }
      case "--event": {
        const event = value();
        if (event !== "push" && event !== "pull_request") {
          throw new CliUsageError(`--event '${event}': expected push or pull_request`);
        }
        extra.event = event;
        break;
      }
      case "--secret": {
        const text = value();
        const equals = text.indexOf("=");
        const [name, variable] = equals < 0 ? [text, text] : [text.slice(0, equals), text.slice(equals + 1)];
        if (!ENV_NAME.test(name) || !ENV_NAME.test(variable)) {
          throw new CliUsageError(
            `--secret '${text}': expected NAME or NAME=VAR, where VAR is the environment variable holding the value`,
          );
        }
        extra.secrets[name] = variable;
        break;
      }
      case "--var": {
        const [name, text] = pair(flag, value(), "name");
        extra.vars[name] = text;
        break;
      }
      case "-w":
      case "--workdir":
        workdir = value();
        break;
      case "--debug":
        common.debug = true;
        break;
      case "--hosted-services": {
        // The directory is optional, so it is only taken inline: `--hosted-services DIR` would be ambiguous.
        const dir = inline?.[2];
        if (dir === "") throw new CliUsageError(`${flag}=: expected a directory after '='`);
        hostedServices = dir === undefined ? {} : { dir };
        break;
      }
      case "-h":
      case "--help":
        return { command: "help" };
      default:
        if (arg.startsWith("-") && arg !== "-") throw new CliUsageError(`unknown option '${arg}'`);
        positional.push(arg);
    }
  }
  const what = command === "run" ? "<action>" : "<file>";
  if (positional.length !== 1) {
    throw new CliUsageError(
      positional.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positional.join(" ")}`,
    );
  }
  const optional = {
    ...(workdir === undefined ? {} : { workdir }),
    ...(hostedServices === undefined ? {} : { hostedServices }),
  };
  if (command === "run") return { command, action: positional[0] ?? "", ...common, ...optional };
  return { command, file: positional[0] ?? "", ...common, ...extra, ...optional };
}
