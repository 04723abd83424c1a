import { formatBytes } from "@frostyard/kit";
import { freeBytes } from "@frostyard/mkosi";

/** Free space on one volume before and after the build: disks and the builders' scratch fill runners. */
export interface FreeSpace {
  path: string;
  before?: number;
  after?: number;
}

/** Free bytes on the volume holding `path` (as df shows them), or undefined where it cannot be read. */
export const freeOn = (path: string): Promise<number | undefined> => freeBytes(path).catch(() => undefined);

export function freeSpaceLine(free: FreeSpace): string {
  const bytes = (n?: number) => (n === undefined ? "?" : formatBytes(n));
  return `${free.path}: ${bytes(free.before)} free before, ${bytes(free.after)} after`;
}
