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

export type CliCommand = RunCommand | { command: "help" };

export const USAGE = `usage: frostyard-build run <action> [--input name=value]… [--env NAME=VALUE]… [--workdir DIR] [--debug]
                          [--hosted-services[=DIR]]

  <action>         a name under actions/ (e.g. pin-digest), a directory holding action.yml, or . for the root action
  -i, --input      an action input, name=value (repeatable; the value may contain '=')
  -e, --env        an environment variable for the action, NAME=VALUE (repeatable)
  -w, --workdir    the workspace the action runs in (GITHUB_WORKSPACE); default: the current directory
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

export function parseCliArgs(argv: readonly string[]): CliCommand {
  if (argv.length === 0) throw new CliUsageError("missing command");
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === "help") return { command: "help" };
  if (command !== "run") throw new CliUsageError(`unknown command '${command}'; expected run`);

  const result: RunCommand = { command: "run", action: "", inputs: {}, env: {}, debug: false };
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
    switch (flag) {
      case "-i":
      case "--input": {
        const [name, text] = pair(flag, value(), "name");
        result.inputs[name] = text;
        break;
      }
      case "-e":
      case "--env": {
        const [name, text] = pair(flag, value(), "NAME");
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          throw new CliUsageError(`${flag} '${name}': not a valid environment variable name`);
        }
        result.env[name] = text;
        break;
      }
      case "-w":
      case "--workdir":
        result.workdir = value();
        break;
      case "--debug":
        result.debug = true;
        break;
      case "--hosted-services": {
        // The directory is optional, so it is only taken inline: `--hosted-services DIR` would be ambiguous.
        const dir = inline?.[2];
        if (dir === "") throw new CliUsageError(`${flag}=: expected a directory after '='`);
        result.hostedServices = dir === undefined ? {} : { dir };
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
  if (positional.length !== 1) {
    throw new CliUsageError(
      positional.length === 0 ? "missing <action>" : `expected one <action>, got ${positional.join(" ")}`,
    );
  }
  result.action = positional[0] ?? "";
  return result;
}
