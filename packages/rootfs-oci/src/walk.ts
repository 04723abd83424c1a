import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { resolveLinkTarget } from "./dpkg";
import type { RootfsEntry } from "./plan";

export interface RootfsScan {
  entries: RootfsEntry[];
  /** Symlinks that point at a directory inside the rootfs (merged /usr), link path → target path. */
  directoryLinks: Map<string, string>;
  /** Sockets, which tar cannot archive and a container has no use for. */
  skipped: string[];
}

/**
 * Paths travel as strings (dpkg lists, tar's file list), so a name that is not valid UTF-8 would be
 * mangled into another name; refuse it by name instead of failing later with a confusing ENOENT.
 */
async function checkUtf8Names(directory: string): Promise<void> {
  for (const raw of await readdir(directory, { encoding: "buffer" })) {
    if (!Buffer.from(raw.toString("utf8")).equals(raw)) {
      throw new Error(
        `${directory} holds a file name that is not valid UTF-8 (bytes ${raw.toString("hex")}); rename it: image layers are written from UTF-8 names`,
      );
    }
  }
}

/** Lists everything under the rootfs (not the root itself), without following symlinks. */
export async function scanRootfs(rootfs: string): Promise<RootfsScan> {
  const entries: RootfsEntry[] = [];
  const links = new Map<string, string>();
  const skipped: string[] = [];
  const directories = new Set<string>();

  async function visit(relative: string): Promise<void> {
    const directory = relative === "" ? rootfs : join(rootfs, relative);
    const names = await readdir(directory);
    if (names.some((name) => name.includes("\uFFFD"))) await checkUtf8Names(directory);
    const children = await Promise.all(
      names.map(async (name) => {
        const path = relative === "" ? name : `${relative}/${name}`;
        return { path, stat: await lstat(join(rootfs, path)) };
      }),
    );
    for (const { path, stat } of children) {
      if (stat.isDirectory()) {
        entries.push({ path, kind: "directory", size: 0 });
        directories.add(path);
        await visit(path);
      } else if (stat.isFile()) {
        entries.push({
          path,
          kind: "file",
          size: stat.size,
          ...(stat.nlink > 1 ? { inode: `${stat.dev}:${stat.ino}` } : {}),
        });
      } else if (stat.isSymbolicLink()) {
        entries.push({ path, kind: "symlink", size: 0 });
        const target = resolveLinkTarget(path, await readlink(join(rootfs, path)));
        if (target !== undefined) links.set(path, target);
      } else if (stat.isSocket()) {
        skipped.push(path);
      } else {
        entries.push({ path, kind: "other", size: 0 });
      }
    }
  }

  await visit("");
  const directoryLinks = new Map([...links].filter(([, target]) => directories.has(target)));
  return { entries, directoryLinks, skipped };
}
