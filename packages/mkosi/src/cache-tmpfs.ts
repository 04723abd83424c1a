import { readFile } from "node:fs/promises";
import { execStreaming, type Logger } from "@frostyard/kit";
import { withSudo } from "./sudo";

/**
 * On an exact cache hit mkosi only reads its cache directory (it copies the cached tree into its
 * workspace), so the unpacked tree never needs to reach the disk. Unpacking into a tmpfs instead skips
 * creating and writing back thousands of files: measured here, 0.6 s instead of 1.8–6 s for the
 * example's 350 MB tree (docs/benchmarks/build-mkosi.md). The tree is held in memory until the post
 * step unmounts it, so it is used only when it fits comfortably.
 */

/** An upper bound for the unpacked tree: mkosi trees compress 3–3.5× with zstd -3; leave room. */
export const UNPACKED_PER_ARCHIVE_BYTE = 6;

/** MemAvailable from /proc/meminfo, in bytes; undefined when the text has none. */
export function availableMemory(meminfo: string): number | undefined {
  const match = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * The tmpfs size for an archive of `archiveBytes`, or undefined when memory is too short: at most half
 * the available memory, and only when that holds a generous estimate of the unpacked tree.
 */
export function tmpfsSize(archiveBytes: number, available: number | undefined): number | undefined {
  if (available === undefined) return undefined;
  const cap = Math.floor(available / 2);
  return cap >= archiveBytes * UNPACKED_PER_ARCHIVE_BYTE ? cap : undefined;
}

export function mountTmpfsArgv(directory: string, sizeBytes: number): string[] {
  return ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0755`, "tmpfs", directory];
}

export interface TmpfsOptions {
  sudo: boolean;
  logger: Logger;
}

/** Mounts a tmpfs of `sizeBytes` on `directory`; false (with a note in the log) when it cannot. */
export async function mountCacheTmpfs(
  directory: string,
  sizeBytes: number,
  options: TmpfsOptions,
): Promise<boolean> {
  if (process.platform !== "linux" || (!options.sudo && process.getuid?.() !== 0)) return false;
  const { command, args } = withSudo("mount", mountTmpfsArgv(directory, sizeBytes), options.sudo, []);
  try {
    await execStreaming(command, args, { logger: options.logger });
    return true;
  } catch (error) {
    options.logger.info(`No tmpfs for the cache (${(error as Error).message}); unpacking onto the disk`);
    return false;
  }
}

export async function unmountCacheTmpfs(directory: string, options: TmpfsOptions): Promise<void> {
  const { command, args } = withSudo("umount", [directory], options.sudo, []);
  await execStreaming(command, args, { logger: options.logger });
}

export async function readMeminfo(): Promise<string> {
  return readFile("/proc/meminfo", "utf8").catch(() => "");
}
