import { access, constants, stat, statfs } from "node:fs/promises";

export interface VolumeCandidate {
  /** A directory on the volume, e.g. /mnt or RUNNER_TEMP. */
  path: string;
  freeBytes: number;
  /** Whether we can create directories there without sudo. */
  writable: boolean;
}

/**
 * The volume mkosi's workspace, TMPDIR and outputs go on: the most free space wins (on GitHub's hosted
 * runners that is /mnt, ~70 GB against ~20 GB on /). A volume we cannot write to counts only when sudo
 * may create our directory there. Ties keep the earlier candidate, so the order is the preference.
 */
export function chooseWorkVolume(candidates: readonly VolumeCandidate[], canSudo: boolean): VolumeCandidate {
  let best: VolumeCandidate | undefined;
  for (const candidate of candidates) {
    if (!candidate.writable && !canSudo) continue;
    if (!best || candidate.freeBytes > best.freeBytes) best = candidate;
  }
  if (!best) {
    throw new Error(
      `no writable volume for mkosi's workspace among ${candidates.map((c) => c.path).join(", ") || "no candidates"}; set work-directory to a writable directory`,
    );
  }
  return best;
}

/** Candidate directories in order of preference; duplicates and empty entries dropped. */
export function candidatePaths(env: Record<string, string | undefined>, tmp: string): string[] {
  return [...new Set([env.RUNNER_TEMP, "/mnt", tmp, "/var/tmp"].filter((p): p is string => !!p))];
}

/** Free bytes for an unprivileged writer (bavail), as df shows them. */
export async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return Number(stats.bavail) * Number(stats.bsize);
}

/** statfs and access for each existing path; missing ones are left out. */
export async function probeVolumes(paths: readonly string[]): Promise<VolumeCandidate[]> {
  const found: VolumeCandidate[] = [];
  // Paths on one filesystem tie, but free space read twice differs while anything writes: without this a
  // busy single-disk machine picked /tmp or /var/tmp over RUNNER_TEMP at random. The earlier path stays.
  const writableDevices = new Set<number>();
  for (const path of paths) {
    let free: number;
    let device: number;
    try {
      free = await freeBytes(path);
      device = (await stat(path)).dev;
    } catch {
      continue;
    }
    if (writableDevices.has(device)) continue;
    const writable = await access(path, constants.W_OK).then(
      () => true,
      () => false,
    );
    if (writable) writableDevices.add(device);
    found.push({ path, freeBytes: free, writable });
  }
  return found;
}
