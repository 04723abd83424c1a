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
  /** The tarball's path under MKOSI_ARCHIVE_BASE, and the directory it unpacks to. */
  archive: string;
  topDirectory: string;
  sha256: string;
}

/**
 * Pinned mkosi releases, newest first; the first is the default `mkosi-ref`.
 *
 * v25.3 is the release Debian trixie ships. Its sha256 is that of Debian's `mkosi_25.3.orig.tar.gz`
 * (trixie's Sources index lists 7b039fb3…), which is GitHub's git-archive of the tag: its pax global
 * header names commit 54c625c3… and it unpacks to `mkosi-25.3/`. The machines this was written on cannot
 * reach github.com, so the download itself was not fetched here; should GitHub's bytes ever differ, the
 * install fails closed, naming both sums.
 */
export const MKOSI_PINS: readonly MkosiPin[] = [
  {
    commit: "54c625c380ef5500f17460981a3c67b109b6a847",
    version: "25.3",
    archive: "refs/tags/v25.3.tar.gz",
    topDirectory: "mkosi-25.3",
    sha256: "7b039fb3b34e1680173a7f4af1bc24b475465afe335c8b21c213167734061e35",
  },
];

export const MKOSI_ARCHIVE_BASE = "https://github.com/systemd/mkosi/archive";
export const SYSTEM_REF = "system";
export const DEFAULT_MKOSI_REF = MKOSI_PINS[0]?.commit ?? SYSTEM_REF;

const COMMIT = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export type MkosiSource =
  | { kind: "system" }
  | { kind: "commit"; commit: string; sha256: string; version?: string; archive?: ArchiveLayout };

/** Where a pinned release's tarball lives and what it unpacks to; other commits use `<commit>.tar.gz`. */
export interface ArchiveLayout {
  archive: string;
  topDirectory: string;
}

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
    return {
      kind: "commit",
      commit: pin.commit,
      sha256: pin.sha256,
      version: pin.version,
      archive: { archive: pin.archive, topDirectory: pin.topDirectory },
    };
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

/**
 * The tool-cache download for a commit: GitHub's tarball of a commit unpacks to `mkosi-<commit>/` (a
 * pinned release's tag tarball to its own directory), whose bin/mkosi runs the tree.
 */
export function mkosiDownload(
  commit: string,
  sha256: string,
  baseUrl = MKOSI_ARCHIVE_BASE,
  arch = runnerArch(),
  layout: ArchiveLayout = { archive: `${commit}.tar.gz`, topDirectory: `mkosi-${commit}` },
): ToolDownload {
  return {
    tool: "mkosi",
    version: commit,
    platform: "linux",
    arch,
    url: `${baseUrl.replace(/\/+$/, "")}/${layout.archive}`,
    sha256,
    archive: "tar.gz",
    binaries: [`${layout.topDirectory}/bin/mkosi`],
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
  const download = mkosiDownload(source.commit, source.sha256, options.baseUrl, undefined, source.archive);
  const installed = await installTool(download, {
    logger: options.logger,
    ...(options.toolCache ? { toolCache: options.toolCache } : {}),
  });
  const path = installed.binaries.mkosi;
  if (!path) throw new Error(`the mkosi ${source.commit} tree has no bin/mkosi`);
  return { path, cached: installed.cached };
}
