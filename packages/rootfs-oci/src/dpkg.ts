import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { comparePaths } from "./plan";

/** `libc6:amd64.list` → `libc6:amd64`; undefined for the other files in dpkg's info directory. */
export function packageFromListFile(fileName: string): string | undefined {
  return fileName.endsWith(".list") && fileName.length > ".list".length
    ? fileName.slice(0, -".list".length)
    : undefined;
}

/** Paths of a dpkg `.list` file, made relative (`/usr/bin/ls` → `usr/bin/ls`); `/.` and blanks dropped. */
export function parseListFile(text: string): string[] {
  const paths: string[] = [];
  for (const line of text.split("\n")) {
    const path = line.replace(/^\/+/, "").replace(/\/+$/, "");
    if (path === "" || path === ".") continue;
    paths.push(path);
  }
  return paths;
}

/**
 * Rewrites a path through the rootfs's symlinked directories (merged /usr: `bin` → `usr/bin`), so
 * `bin/bash` as dpkg lists it finds `usr/bin/bash` as it is stored. `directoryLinks` maps a symlink's
 * path to its target, both relative to the rootfs root.
 */
export function canonicalPath(path: string, directoryLinks: ReadonlyMap<string, string>): string {
  if (directoryLinks.size === 0) return path;
  let current = path;
  // Bounded: a link cycle in a broken rootfs must not hang the build.
  for (let hops = 0; hops < 16; hops++) {
    const parts = current.split("/");
    let rewritten: string | undefined;
    for (let i = parts.length - 1; i >= 1; i--) {
      const prefix = parts.slice(0, i).join("/");
      const target = directoryLinks.get(prefix);
      if (target !== undefined) {
        rewritten = [target, ...parts.slice(i)].join("/");
        break;
      }
    }
    if (rewritten === undefined) return current;
    current = rewritten;
  }
  return current;
}

/** Resolves a symlink's target to a rootfs-relative path, or undefined when it leaves the rootfs. */
export function resolveLinkTarget(linkPath: string, target: string): string | undefined {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  const parts = [...base];
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.length === 0 ? undefined : parts.join("/");
}

/**
 * Path → owning package from each package's listed paths. A path listed by several packages (shared
 * directories, mostly) goes to the first by name, so the answer never depends on read order.
 */
export function ownersFromLists(
  lists: ReadonlyMap<string, readonly string[]>,
  directoryLinks: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const owners = new Map<string, string>();
  for (const name of [...lists.keys()].sort(comparePaths)) {
    for (const listed of lists.get(name)!) {
      const path = canonicalPath(listed, directoryLinks);
      if (!owners.has(path)) owners.set(path, name);
    }
  }
  return owners;
}

/** Debian architecture names → OCI `architecture` (and `variant` for arm). */
const DEBIAN_TO_OCI: Record<string, { architecture: string; variant?: string }> = {
  amd64: { architecture: "amd64" },
  arm64: { architecture: "arm64", variant: "v8" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v5" },
  i386: { architecture: "386" },
  ppc64el: { architecture: "ppc64le" },
  s390x: { architecture: "s390x" },
  riscv64: { architecture: "riscv64" },
  mips64el: { architecture: "mips64le" },
  loong64: { architecture: "loong64" },
};

export function ociArchitectureFromDebian(
  debian: string,
): { architecture: string; variant?: string } | undefined {
  return DEBIAN_TO_OCI[debian];
}

/**
 * The native architecture recorded in dpkg's status file: the `dpkg` package's own, else the most
 * common one that is not `all`. Undefined when the file names none.
 */
export function dpkgArchitecture(statusText: string): string | undefined {
  const counts = new Map<string, number>();
  for (const stanza of statusText.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const arch = /^Architecture:\s*(\S+)/m.exec(stanza)?.[1];
    if (!arch || arch === "all") continue;
    if (name === "dpkg") return arch;
    counts.set(arch, (counts.get(arch) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [arch, count] of counts) {
    if (best === undefined || count > counts.get(best)! || (count === counts.get(best)! && arch < best))
      best = arch;
  }
  return best;
}

/** Reads `var/lib/dpkg/info/*.list` in a rootfs; an empty map when it has no dpkg database. */
export async function readDpkgLists(rootfs: string): Promise<Map<string, string[]>> {
  const infoDir = join(rootfs, "var", "lib", "dpkg", "info");
  let names: string[];
  try {
    names = await readdir(infoDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw error;
  }
  const lists = new Map<string, string[]>();
  for (const fileName of names.sort(comparePaths)) {
    const name = packageFromListFile(fileName);
    if (name === undefined) continue;
    lists.set(name, parseListFile(await readFile(join(infoDir, fileName), "utf8")));
  }
  return lists;
}

/** The rootfs's dpkg architecture, or undefined without `var/lib/dpkg/status`. */
export async function readDpkgArchitecture(rootfs: string): Promise<string | undefined> {
  try {
    return dpkgArchitecture(await readFile(join(rootfs, "var", "lib", "dpkg", "status"), "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
