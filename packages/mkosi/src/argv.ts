import { InputError } from "@frostyard/kit";

/** What every mkosi call of one build shares, so `summary` describes exactly what `build` makes. */
export interface MkosiOptions {
  /** The mkosi project (`--directory`). */
  directory: string;
  profiles: readonly string[];
  imageVersion: string;
  /** mkosi's name (`x86-64`, `arm64`) of the architecture to build for; undefined leaves the project's (or the machine's). */
  architecture?: string;
  /** Names only: mkosi reads each value from its environment (`--environment=NAME`). */
  environmentNames: readonly string[];
  cacheDirectory?: string;
  workspaceDirectory?: string;
  outputDirectory?: string;
  /** `--manifest-format=`, e.g. "json"; undefined leaves the project's ManifestFormat= alone. */
  manifestFormat?: string;
  /** The user's extra options (`args`), placed before the verb. */
  extraArgs: readonly string[];
}

/** mkosi takes a profile as a file name and splits `--profile` on commas; we pass one per flag. */
const PROFILE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function validateProfiles(profiles: readonly string[], input = "profiles"): string[] {
  const seen = new Set<string>();
  for (const profile of profiles) {
    if (!PROFILE.test(profile)) {
      throw new InputError(
        input,
        `'${profile.slice(0, 60)}' is not a profile name`,
        "names of letters, digits, '.', '_' and '-'",
      );
    }
    if (seen.has(profile)) throw new InputError(input, `'${profile}' is listed twice`, "each profile once");
    seen.add(profile);
  }
  return [...profiles];
}

/** Verbs in `args` would make mkosi run something other than the build this action reports on. */
const VERBS = new Set([
  "build",
  "summary",
  "clean",
  "shell",
  "boot",
  "qemu",
  "vm",
  "ssh",
  "serve",
  "burn",
  "bump",
  "genkey",
  "cat-config",
  "journalctl",
  "coredumpctl",
  "sandbox",
  "dependencies",
  "documentation",
  "help",
  "init",
  "latest-snapshot",
  "sysupdate",
  "box",
]);

export function validateExtraArgs(args: readonly string[], input = "args"): string[] {
  for (const arg of args) {
    if (VERBS.has(arg)) {
      throw new InputError(
        input,
        `'${arg}' is an mkosi verb; the action runs 'summary' and 'build' itself`,
        "mkosi options only, such as --debug or --incremental=yes",
      );
    }
    if (/^(-E|--environment)(=|$)/.test(arg)) {
      throw new InputError(
        input,
        `'${arg.split("=")[0]}' would put a variable's value on the command line`,
        "the environment or secret-environment input for variables",
      );
    }
  }
  return [...args];
}

function commonArgs(options: MkosiOptions): string[] {
  const argv = ["--directory", options.directory];
  for (const profile of options.profiles) argv.push(`--profile=${profile}`);
  argv.push(`--image-version=${options.imageVersion}`);
  if (options.architecture) argv.push(`--architecture=${options.architecture}`);
  for (const name of options.environmentNames) argv.push(`--environment=${name}`);
  if (options.cacheDirectory) argv.push(`--cache-directory=${options.cacheDirectory}`);
  if (options.workspaceDirectory) argv.push(`--workspace-directory=${options.workspaceDirectory}`);
  if (options.outputDirectory) argv.push(`--output-directory=${options.outputDirectory}`);
  if (options.manifestFormat) argv.push(`--manifest-format=${options.manifestFormat}`);
  argv.push(...options.extraArgs);
  return argv;
}

/** `mkosi … --json summary`: parses the configuration and prints it, building nothing. */
export function summaryArgv(options: MkosiOptions): string[] {
  return [...commonArgs(options), "--json", "summary"];
}

/**
 * `mkosi … --force build`: one `--force` replaces outputs of the same name and keeps the incremental
 * cache (a second `-f` would delete it, which is the speed this action restores).
 */
export function buildArgv(options: MkosiOptions): string[] {
  return [...commonArgs(options), "--force", "build"];
}
