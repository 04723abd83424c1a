import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export interface WalkEntry {
  /** Path under the root with a leading "/", file names decoded leniently (invalid bytes as U+FFFD). */
  path: string;
  /** Raw bytes of the entry's file name. */
  name: Buffer;
  /** Absolute path as bytes, for further calls on this entry. */
  raw: Buffer;
  /** Path of the containing directory under the root, without leading "/" ("" for the root itself). */
  parent: string;
  type: "dir" | "file" | "symlink" | "other";
  /** Size of a regular file when the walk was asked for sizes; 0 otherwise. */
  size: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function isUtf8(bytes: Buffer): boolean {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Renders bytes as Rust's Debug does for an OsStr: valid UTF-8 as is, other bytes as \xNN. */
export function escapeBytes(bytes: Buffer): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    let end = i + 1;
    // Take the longest valid UTF-8 sequence (1-4 bytes) starting here.
    let taken = "";
    for (let len = Math.min(4, bytes.length - i); len >= 1; len--) {
      const slice = bytes.subarray(i, i + len);
      if (isUtf8(slice)) {
        taken = slice.toString("utf8");
        end = i + len;
        break;
      }
    }
    out += taken || `\\x${(bytes[i] ?? 0).toString(16).toUpperCase().padStart(2, "0")}`;
    i = end;
  }
  return out;
}

export interface WalkOptions {
  /** Start below the root at this relative path; default the root itself. */
  start?: string;
  /** Fill in `size` for regular files (one lstat each); otherwise it is 0. */
  sizes?: boolean;
}

/**
 * Walks `root` depth first in sorted order without following symlinks or leaving its filesystem
 * (bootc's walk is `noxdev` too), handing each entry to `visit`; `visit` returning false stops the walk.
 * Types come from readdir, so only directories (for their device) and, on request, files are stat'ed.
 */
export async function walk(
  root: string,
  visit: (entry: WalkEntry) => boolean | void,
  options: WalkOptions = {},
): Promise<void> {
  const start = options.start ?? "";
  const top = await lstat(join(root, start));
  const device = top.dev;
  // Paths are kept as bytes: a directory whose name is not UTF-8 must still be entered.
  const visitDir = async (absRaw: Buffer, rel: string): Promise<boolean> => {
    const dirents = await readdir(absRaw, { encoding: "buffer", withFileTypes: true });
    dirents.sort((a, b) => Buffer.compare(a.name as unknown as Buffer, b.name as unknown as Buffer));
    for (const dirent of dirents) {
      const name = dirent.name as unknown as Buffer;
      const childRaw = Buffer.concat([absRaw, Buffer.from("/"), name]);
      const type = dirent.isDirectory()
        ? "dir"
        : dirent.isFile()
          ? "file"
          : dirent.isSymbolicLink()
            ? "symlink"
            : "other";
      const info = type === "dir" || (type === "file" && options.sizes) ? await lstat(childRaw) : undefined;
      const childRel = rel ? `${rel}/${name.toString("utf8")}` : name.toString("utf8");
      const entry = {
        path: `/${childRel}`,
        raw: childRaw,
        name,
        parent: rel,
        type,
        size: type === "file" ? (info?.size ?? 0) : 0,
      } as const;
      if (visit(entry) === false) return false;
      if (type === "dir" && info?.dev === device && !(await visitDir(childRaw, childRel))) return false;
    }
    return true;
  };
  if (top.isDirectory()) await visitDir(Buffer.from(join(root, start)), start);
}

/** The raw target bytes of a symlink. */
export async function readLinkBytes(path: string | Buffer): Promise<Buffer> {
  return readlink(path, { encoding: "buffer" });
}
