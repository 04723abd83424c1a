/**
 * mkosi 25 is the oldest release the action drives: it renamed `Profile=` to the list `Profiles=` (so
 * several `--profile`s combine) and its `--json summary` prints `{"Images": […]}` with PascalCase keys
 * (`Output`, `OutputDirectory`, `Format`, `ImageId`, `ImageVersion`), which is how outputs are found.
 */
export const MINIMUM_MKOSI_VERSION = { major: 25, minor: 0 } as const;

export interface MkosiVersion {
  major: number;
  minor: number;
  /** As printed, e.g. "25.3" or "26~devel". */
  text: string;
}

/** The version in `mkosi --version` output ("mkosi 25.3", "mkosi 26~devel"). */
export function parseMkosiVersion(output: string): MkosiVersion {
  const match = /\bmkosi\s+v?(\d+)(?:\.(\d+))?([^\s]*)/.exec(output);
  if (!match) {
    throw new Error(
      `could not read a version from 'mkosi --version' (got ${JSON.stringify(output.trim().slice(0, 120))}); expected "mkosi <major>[.<minor>]"`,
    );
  }
  const text = `${match[1]}${match[2] !== undefined ? `.${match[2]}` : ""}${match[3] ?? ""}`;
  return { major: Number(match[1]), minor: Number(match[2] ?? 0), text };
}

export function isSupportedVersion(version: MkosiVersion): boolean {
  const min = MINIMUM_MKOSI_VERSION;
  return version.major > min.major || (version.major === min.major && version.minor >= min.minor);
}

/** Throws naming the minimum when `version` is older. */
export function assertSupportedVersion(version: MkosiVersion, where = "mkosi"): void {
  if (isSupportedVersion(version)) return;
  throw new Error(
    `${where} is version ${version.text}, too old: build-mkosi needs mkosi ${MINIMUM_MKOSI_VERSION.major} or newer ` +
      "(profiles as a list and `mkosi --json summary` listing each image's Output, Format and OutputDirectory); " +
      "set mkosi-ref to a pinned commit instead of 'system', or install a newer mkosi",
  );
}
