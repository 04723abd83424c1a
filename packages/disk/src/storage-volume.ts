import { mkdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { execStreaming, formatBytes, type Logger } from "@frostyard/kit";
import {
  candidatePaths,
  chooseWorkVolume,
  freeBytes,
  probeVolumes,
  type VolumeCandidate,
} from "@frostyard/mkosi";

/** The directory made on the chosen volume when output-directory is left empty. */
export const OUTPUT_DIRECTORY_NAME = "disk-output";
/** The graph root made on the chosen volume when the configured one has less room. */
export const STORAGE_DIRECTORY_NAME = "containers-storage";

/** No candidate volume may take the disks: a domain error the entry maps to output-directory. */
export class NoWorkVolumeError extends Error {
  constructor(readonly paths: readonly string[]) {
    super(`no writable volume among ${paths.join(", ") || "no candidates"}`);
    this.name = "NoWorkVolumeError";
  }
}

/**
 * The volume the disks (and, when it has more room than podman's, the container storage) go on: build-mkosi's
 * rule for its work volume, so both actions pick /mnt on GitHub's hosted runners (~70 GB against ~20 GB on /).
 */
export function chooseDiskVolume(candidates: readonly VolumeCandidate[], canSudo: boolean): VolumeCandidate {
  if (!candidates.some((c) => c.writable || canSudo))
    throw new NoWorkVolumeError(candidates.map((c) => c.path));
  return chooseWorkVolume(candidates, canSudo);
}

/** How the container-storage input asks for the builders' storage. */
export type ContainerStorageRequest = { kind: "auto" } | { kind: "default" } | { kind: "path"; path: string };

/** A volume as seen through one directory on it; free bytes and device undefined where unreadable. */
export interface VolumeState {
  path: string;
  freeBytes?: number;
  device?: number;
}

/** The storage every podman call of a run uses; root undefined: podman's as configured. */
export interface ContainerStoragePlan {
  root?: string;
  runroot?: string;
  /** Why, for the log. */
  reason: string;
}

/**
 * Where the builders' rootful storage goes. Automatic keeps podman's graph root when its volume has at least
 * the work volume's room (the same volume counts as a tie: two reads of one filesystem differ while anything
 * writes), else makes one on the work volume. A storage of our own gets its own run root too: containers/storage
 * keeps mount counts and locks there, and two graph roots sharing one would step on each other.
 */
export function chooseContainerStorage(
  request: ContainerStorageRequest,
  graphRoot: VolumeState,
  work: VolumeState,
): ContainerStoragePlan {
  if (request.kind === "default") return { reason: "podman's as configured (container-storage: default)" };
  if (request.kind === "path") return { ...ownStorage(request.path), reason: "container-storage names it" };
  const configured = { reason: `podman's graph root has at least as much room as ${work.path}` };
  if (graphRoot.device !== undefined && graphRoot.device === work.device)
    return { reason: `podman's graph root is on the same volume as ${work.path}` };
  if (graphRoot.freeBytes === undefined || work.freeBytes === undefined) return configured;
  if (graphRoot.freeBytes >= work.freeBytes) return configured;
  return {
    ...ownStorage(join(work.path, STORAGE_DIRECTORY_NAME)),
    reason: `${work.path} has more room than podman's graph root ${graphRoot.path}`,
  };
}

function ownStorage(root: string): { root: string; runroot: string } {
  return { root, runroot: `${root}-run` };
}

/** podman's global flags (before the subcommand) that point it at the plan's storage. */
export function storageArgv(plan: ContainerStoragePlan): string[] {
  return plan.root ? ["--root", plan.root, "--runroot", plan.runroot ?? `${plan.root}-run`] : [];
}

/**
 * One podman call against the plan's storage: the wrapper (`sudo -n -- podman`) first, the storage flags
 * before the subcommand (they are podman's global flags), then the call's own arguments.
 */
export function podmanCall(
  podman: { command: string; prefix: readonly string[] },
  plan: ContainerStoragePlan,
  argv: readonly string[],
): { command: string; args: string[] } {
  return { command: podman.command, args: [...podman.prefix, ...storageArgv(plan), ...argv] };
}

/** A directory that cannot be made: a domain error the entry maps to the input that named it. */
export class StorageDirectoryError extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`cannot create '${path}' (${why})`);
    this.name = "StorageDirectoryError";
  }
}

/**
 * Makes a directory, through `sudo -n install -d` owned by the user when we may not write the parent (the
 * hosted runners' /mnt belongs to root).
 */
export async function ensureDirectory(
  path: string,
  access: { uid: number; gid: number; logger: Logger },
): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    return;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (access.uid !== 0 && why === "EACCES") {
      const made = await execStreaming(
        "sudo",
        ["-n", "--", "install", "-d", "-o", String(access.uid), "-g", String(access.gid), path],
        { logger: access.logger, ignoreReturnCode: true },
      );
      if (made.exitCode === 0) return;
    }
    throw new StorageDirectoryError(path, why);
  }
}

/** Free bytes and device of the volume holding `path`, read at its nearest existing ancestor. */
export async function volumeState(path: string): Promise<VolumeState> {
  for (let at = path; ; at = dirname(at)) {
    try {
      const [free, info] = await Promise.all([freeBytes(at), stat(at)]);
      return { path, freeBytes: free, device: info.dev };
    } catch {
      if (dirname(at) === at) return { path };
    }
  }
}

/** `<what> <path> (<free> free)`: one line for the log and the summary. */
export function describeVolume(what: string, state: VolumeState): string {
  return `${what} ${state.path} (${state.freeBytes === undefined ? "?" : formatBytes(state.freeBytes)} free)`;
}

export interface PlacedOutput {
  /** Absolute. */
  directory: string;
  /** The candidate volume with the most free space; undefined when a given directory made it moot. */
  volume?: VolumeCandidate;
  /** For the log and the summary when the directory was chosen here. */
  said?: string;
}

/**
 * The output directory: a given one relative to the working directory as always, else `disk-output` on the
 * candidate volume with the most free space. The volume is looked for either way: automatic container
 * storage compares with it.
 */
export async function placeOutputDirectory(options: {
  given?: string;
  env: Readonly<Record<string, string | undefined>>;
  tmp: string;
  canSudo: boolean;
  owner: { uid: number; gid: number };
  logger: Logger;
}): Promise<PlacedOutput> {
  const candidates = await probeVolumes(candidatePaths(options.env, options.tmp));
  if (options.given !== undefined) {
    const directory = resolve(options.given);
    await ensureDirectory(directory, { ...options.owner, logger: options.logger });
    const usable = candidates.some((c) => c.writable || options.canSudo);
    return { directory, ...(usable ? { volume: chooseDiskVolume(candidates, options.canSudo) } : {}) };
  }
  const volume = chooseDiskVolume(candidates, options.canSudo);
  const directory = join(volume.path, OUTPUT_DIRECTORY_NAME);
  await ensureDirectory(directory, { ...options.owner, logger: options.logger });
  return {
    directory,
    volume,
    said: `Output directory ${directory}, on the ${describeVolume("volume with the most free space:", volume)}`,
  };
}
