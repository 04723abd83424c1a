/** What the bootc inside the image accepts, from its `container lint --help` (or its version when help is silent). */
export interface BootcFeatures {
  fatalWarnings: boolean;
  skip: boolean;
  noTruncate: boolean;
}

export interface LintRequest {
  /** An image podman can run: an ID or a name in its storage. */
  image: string;
  fatalWarnings: boolean;
  skip: readonly string[];
  /** Ask for complete lists (bootc otherwise prints five items and "...and N more"). */
  noTruncate: boolean;
}

export interface LintInvocation {
  /** podman's arguments. */
  args: string[];
  /** Requested options the bootc inside does not support, each with why it was dropped. */
  dropped: string[];
}

/**
 * The release each flag first shipped in, as far as bootc's history tells (warnings and --fatal-warnings
 * came with the warning lint type, --skip with bootc-dev/bootc#1107 in February 2025, --no-truncate with
 * bootc-dev/bootc#1324 in May 2025); the releases are inferred from those merge dates, not read from
 * release notes. Only a fallback: the bootc's own `container lint --help` decides whenever it answers.
 */
export const FLAG_SINCE: Record<keyof BootcFeatures, [number, number, number]> = {
  fatalWarnings: [1, 1, 4],
  skip: [1, 1, 5],
  noTruncate: [1, 2, 0],
};

const FLAG_NAMES: Record<keyof BootcFeatures, string> = {
  fatalWarnings: "--fatal-warnings",
  skip: "--skip",
  noTruncate: "--no-truncate",
};

/** "bootc 1.13.0" → [1, 13, 0]; undefined when there is no version in the text. */
export function parseBootcVersion(text: string): [number, number, number] | undefined {
  const match = /\bbootc\s+v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function atLeast(version: readonly number[], since: readonly number[]): boolean {
  for (let i = 0; i < since.length; i++) {
    const a = version[i] ?? 0;
    const b = since[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Flags the bootc inside supports. Its own `container lint --help` is the authority (it lists every
 * flag); without a readable help text, the version decides; with neither, nothing optional is passed.
 */
export function bootcFeatures(versionText: string, helpText: string): BootcFeatures {
  const help = helpText.includes("container lint") || /--\w/.test(helpText) ? helpText : "";
  const version = parseBootcVersion(versionText);
  const has = (key: keyof BootcFeatures) =>
    help
      ? new RegExp(`${FLAG_NAMES[key]}\\b`).test(help)
      : version
        ? atLeast(version, FLAG_SINCE[key])
        : false;
  return { fatalWarnings: has("fatalWarnings"), skip: has("skip"), noTruncate: has("noTruncate") };
}

/** Base podman arguments for running bootc in `image`: no network, never a pull behind our back. */
export function podmanBootcArgs(image: string, bootcArgs: readonly string[]): string[] {
  return ["run", "--rm", "--pull=never", "--network=none", "--entrypoint", "bootc", image, ...bootcArgs];
}

/** `podman run … bootc container lint [--fatal-warnings] [--no-truncate] [--skip NAME]…` with what the bootc inside supports. */
export function lintInvocation(request: LintRequest, features: BootcFeatures): LintInvocation {
  const lintArgs = ["container", "lint"];
  const dropped: string[] = [];
  if (request.fatalWarnings) {
    if (features.fatalWarnings) lintArgs.push("--fatal-warnings");
    else dropped.push("--fatal-warnings (warnings are judged from the output instead)");
  }
  if (request.noTruncate) {
    if (features.noTruncate) lintArgs.push("--no-truncate");
    else dropped.push("--no-truncate (lists stay cut at five items)");
  }
  if (request.skip.length > 0) {
    if (features.skip) for (const name of request.skip) lintArgs.push("--skip", name);
    else
      dropped.push(
        `--skip ${request.skip.join(",")} (findings of those lints are dropped from the report instead)`,
      );
  }
  return { args: podmanBootcArgs(request.image, lintArgs), dropped };
}
