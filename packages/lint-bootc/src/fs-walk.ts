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

/**
 * Walks `root` depth first in sorted order without following symlinks or leaving its filesystem
 * (bootc's walk is `noxdev` too), handing each entry to `visit`; `visit` returning false stops the walk.
 */
export async function walk(
  root: string,
  visit: (entry: WalkEntry) => boolean | void,
  start = "",
): Promise<void> {
  const top = await lstat(join(root, start));
  const device = top.dev;
  // Paths are kept as bytes: a directory whose name is not UTF-8 must still be entered.
  const visitDir = async (absRaw: Buffer, rel: string): Promise<boolean> => {
    const names = (await readdir(absRaw, { encoding: "buffer" })).sort(Buffer.compare);
    for (const name of names) {
      const childRaw = Buffer.concat([absRaw, Buffer.from("/"), name]);
      const info = await lstat(childRaw);
      const type = info.isDirectory()
        ? "dir"
        : info.isFile()
          ? "file"
          : info.isSymbolicLink()
            ? "symlink"
            : "other";
      const childRel = rel ? `${rel}/${name.toString("utf8")}` : name.toString("utf8");
      const entry = {
        path: `/${childRel}`,
        raw: childRaw,
        name,
        parent: rel,
        type,
        size: info.size,
      } as const;
      if (visit(entry) === false) return false;
      if (type === "dir" && info.dev === device && !(await visitDir(childRaw, childRel))) return false;
    }
    return true;
  };
  if (top.isDirectory()) await visitDir(Buffer.from(join(root, start)), start);
}

/** The raw target bytes of a symlink. */
export async function readLinkBytes(path: string | Buffer): Promise<Buffer> {
  return readlink(path, { encoding: "buffer" });
}
