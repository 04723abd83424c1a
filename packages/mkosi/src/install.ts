import {
  InputError,
  installTool,
  runnerArch,
  type Logger,
  type ToolCache,
  type ToolDownload,
} from "@frostyard/kit";

/** A commit of github.com/systemd/mkosi whose source tarball's sha256 was checked and recorded. */
export interface MkosiPin {
  commit: string;
  /** The release it is, for the log and the summary. */
  version: string;
  /** sha256 of `https://github.com/systemd/mkosi/archive/<commit>.tar.gz`. */
  sha256: string;
}

/**
 * Pinned mkosi commits. An entry is added only with a sha256 computed from the real download: none could be
 * fetched from the machines this was written on (no access to github.com), so the table is empty and the
 * default `mkosi-ref` is `system` until a verified pin lands. Until then a commit is installed by giving
 * both `mkosi-ref: <commit>` and `mkosi-sha256: <sha256 of its tarball>`.
 */
export const MKOSI_PINS: readonly MkosiPin[] = [];

export const MKOSI_ARCHIVE_BASE = "https://github.com/systemd/mkosi/archive";
export const SYSTEM_REF = "system";
export const DEFAULT_MKOSI_REF = MKOSI_PINS[0]?.commit ?? SYSTEM_REF;

const COMMIT = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export type MkosiSource =
  { kind: "system" } | { kind: "commit"; commit: string; sha256: string; version?: string };

/**
 * What `mkosi-ref` (and `mkosi-sha256`) ask for: `system`, a pinned commit, or any commit with its
 * tarball's sha256. Branches and tags are refused: they move, and a checksum cannot follow them.
 */
export function resolveMkosiSource(
  ref: string,
  sha256: string | undefined,
  pins: readonly MkosiPin[] = MKOSI_PINS,
): MkosiSource {
  const wanted = ref.trim();
  if (wanted === SYSTEM_REF) {
    if (sha256)
      throw new InputError(
        "mkosi-sha256",
        "is set while mkosi-ref is 'system'",
        "empty with mkosi-ref: system",
      );
    return { kind: "system" };
  }
  const pinnedList = pins.map((p) => `${p.commit} (${p.version})`).join(", ");
  if (!COMMIT.test(wanted)) {
    throw new InputError(
      "mkosi-ref",
      `'${wanted.slice(0, 60)}' is not a full commit id`,
      `'system' or a 40-hex commit of systemd/mkosi${pinnedList ? `, e.g. a pinned one: ${pinnedList}` : ""} (branches and tags move, so they are not accepted)`,
    );
  }
  if (sha256 !== undefined && !SHA256.test(sha256)) {
    throw new InputError(
      "mkosi-sha256",
      `'${sha256.slice(0, 70)}' is not a sha256`,
      "64 lower-case hex digits",
    );
  }
  const pin = pins.find((p) => p.commit === wanted);
  if (pin) {
    if (sha256 && sha256 !== pin.sha256) {
      throw new InputError(
        "mkosi-sha256",
        `differs from the sha256 pinned for ${pin.commit} (${pin.version})`,
        `empty or ${pin.sha256}`,
      );
    }
    return { kind: "commit", commit: pin.commit, sha256: pin.sha256, version: pin.version };
  }
  if (!sha256) {
    throw new InputError(
      "mkosi-sha256",
      `is empty and ${wanted} is not a pinned commit`,
      `the sha256 of ${MKOSI_ARCHIVE_BASE}/${wanted}.tar.gz${pinnedList ? `, or a pinned commit: ${pinnedList}` : ""}`,
    );
  }
  return { kind: "commit", commit: wanted, sha256 };
}

/** The tool-cache download for a commit: GitHub's tarball unpacks to `mkosi-<commit>/`, whose bin/mkosi runs the tree. */
export function mkosiDownload(
  commit: string,
  sha256: string,
  baseUrl = MKOSI_ARCHIVE_BASE,
  arch = runnerArch(),
): ToolDownload {
  return {
    tool: "mkosi",
    version: commit,
    platform: "linux",
    arch,
    url: `${baseUrl.replace(/\/+$/, "")}/${commit}.tar.gz`,
    sha256,
    archive: "tar.gz",
    binaries: [`mkosi-${commit}/bin/mkosi`],
  };
}

export interface InstallMkosiOptions {
  logger: Logger;
  /** Where tarballs come from; tests serve one on 127.0.0.1. */
  baseUrl?: string;
  toolCache?: ToolCache;
}

export interface InstalledMkosi {
  /** Absolute path of the mkosi launcher. */
  path: string;
  cached: boolean;
}

/** Downloads (or finds in the tool cache) a commit's source tree, checked against its sha256 before unpacking. */
export async function installMkosi(
  source: Extract<MkosiSource, { kind: "commit" }>,
  options: InstallMkosiOptions,
): Promise<InstalledMkosi> {
  const download = mkosiDownload(source.commit, source.sha256, options.baseUrl);
  const installed = await installTool(download, {
    logger: options.logger,
    ...(options.toolCache ? { toolCache: options.toolCache } : {}),
  });
  const path = installed.binaries.mkosi;
  if (!path) throw new Error(`the mkosi ${source.commit} tree has no bin/mkosi`);
  return { path, cached: installed.cached };
}
