import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { escapeBytes, isUtf8, readLinkBytes, walk } from "./fs-walk";
import { parseKargsToml } from "./kargs-toml";

/** A native check: resolves to undefined when the rule passes, to bootc-style message text when it fails. */
export type NativeCheck = (root: string) => Promise<string | undefined>;

/** bootc's list rendering: "header:" and one "  item" per line (complete: we never truncate). */
export function formatItems(header: string, items: readonly string[]): string {
  return items.length === 0 ? "" : [`${header}:`, ...items.map((item) => `  ${item}`)].join("\n");
}

async function lstatOptional(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === "ENOENT" ||
      (error as NodeJS.ErrnoException).code === "ENOTDIR"
    )
      return undefined;
    throw error;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

const API_DIRS = ["dev", "proc", "sys", "run", "tmp", "var"];
const BASEIMAGE_REF = "usr/share/doc/bootc/baseimage/base";

export const varRun: NativeCheck = async (root) => {
  const info = await lstatOptional(join(root, "var/run"));
  return info && !info.isSymbolicLink() ? "Not a symlink: var/run" : undefined;
};

export const buildahInjected: NativeCheck = async (root) => {
  for (const path of ["etc/hostname", "etc/resolv.conf"]) {
    const info = await lstatOptional(join(root, path));
    if (info?.isFile() && info.size === 0) {
      return `/${path} is an empty file; this may have been synthesized by a container runtime.`;
    }
  }
  return undefined;
};

export const etcUsretc: NativeCheck = async (root) => {
  if (!(await lstatOptional(join(root, "etc")))) return undefined;
  return (await lstatOptional(join(root, "usr/etc")))
    ? "Found /usr/etc - this is a bootc implementation detail and not supported to use in containers"
    : undefined;
};

export const bootcKargs: NativeCheck = async (root) => {
  const dir = join(root, "usr/lib/bootc/kargs.d");
  const info = await lstatOptional(dir);
  if (!info) return undefined;
  if (!info.isDirectory()) return "/usr/lib/bootc/kargs.d is not a directory";
  const problems: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(".toml")) continue;
    const file = join(dir, name);
    if (!(await stat(file)).isFile()) continue;
    const parsed = parseKargsToml(await readFile(file, "utf8"));
    if (!parsed.ok) problems.push(`/usr/lib/bootc/kargs.d/${name}: ${parsed.error}`);
  }
  return problems.length > 0 ? formatItems("Failed to parse kargs.d files", problems) : undefined;
};

/** Kernel directories: /usr/lib/modules/<version> holding a vmlinuz (as ostree's bootabletree looks). */
export async function kernelVersions(root: string): Promise<string[]> {
  const modules = join(root, "usr/lib/modules");
  const versions: string[] = [];
  let names: string[];
  try {
    names = await readdir(modules);
  } catch {
    return [];
  }
  for (const name of names.sort()) {
    const dir = await lstatOptional(join(modules, name));
    const vmlinuz = await lstatOptional(join(modules, name, "vmlinuz"));
    if (dir?.isDirectory() && vmlinuz?.isFile()) versions.push(name);
  }
  return versions;
}

export const kernel: NativeCheck = async (root) => {
  // bootc accepts no kernel at all (a derived image may not ship one); only several is an error.
  const versions = await kernelVersions(root);
  return versions.length > 1
    ? formatItems("Multiple kernels found in /usr/lib/modules", versions)
    : undefined;
};

export const utf8: NativeCheck = async (root) => {
  let problem: string | undefined;
  const symlinks: { path: string; raw: Buffer }[] = [];
  await walk(root, (entry) => {
    if (!isUtf8(entry.name)) {
      problem = `/${entry.parent}: Found non-utf8 filename "${escapeBytes(entry.name)}"`;
      return false;
    }
    if (entry.type === "symlink") symlinks.push({ path: entry.path, raw: entry.raw });
    return true;
  });
  if (problem) return problem;
  for (const link of symlinks) {
    if (!isUtf8(await readLinkBytes(link.raw))) return `${link.path}: Found non-utf8 symlink target`;
  }
  return undefined;
};

export const apiBaseDirectories: NativeCheck = async (root) => {
  for (const dir of API_DIRS) {
    const info = await lstatOptional(join(root, dir));
    if (!info) return `Missing API filesystem base directory: /${dir}`;
    if (!info.isDirectory()) return `Expected directory for API filesystem base directory: /${dir}`;
  }
  return undefined;
};

function composefsProblem(config: string | undefined, path: string): string | undefined {
  if (config === undefined) return `${path} is not present to enable composefs`;
  let section = "";
  let enabled: string | undefined;
  for (const raw of config.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]?.trim() ?? "";
    else if (section === "composefs") {
      const kv = /^enabled\s*=\s*(.*)$/.exec(line);
      if (kv) enabled = kv[1]?.trim().toLowerCase();
    }
  }
  // ostree's tristate: yes/true/1, signed and verity enable composefs; no/false/0 disable it; absent means maybe.
  return enabled === undefined || ["no", "false", "0"].includes(enabled)
    ? `${path} does not have composefs enabled`
    : undefined;
}

async function prepareRootProblem(dir: string): Promise<string | undefined> {
  const path = "usr/lib/ostree/prepare-root.conf";
  const config =
    (await readOptional(join(dir, "etc/ostree/prepare-root.conf"))) ?? (await readOptional(join(dir, path)));
  return composefsProblem(config, path);
}

/** A baseimage lint: `problem` of the root, then of the base image under BASEIMAGE_REF when there is one. */
function rootAndBaseimage(problem: (dir: string) => Promise<string | undefined>): NativeCheck {
  return async (root) => {
    const found = await problem(root);
    if (found) return found;
    if ((await lstatOptional(join(root, BASEIMAGE_REF)))?.isDirectory())
      return problem(join(root, BASEIMAGE_REF));
    return undefined;
  };
}

export const baseimageComposefs: NativeCheck = rootAndBaseimage(prepareRootProblem);

async function baseimageRootProblem(dir: string): Promise<string | undefined> {
  const sysroot = await lstatOptional(join(dir, "sysroot"));
  if (!sysroot) return "Missing /sysroot";
  if (!sysroot.isDirectory()) return "Expected a directory for /sysroot";
  const ostree = await lstatOptional(join(dir, "ostree"));
  if (!ostree) return "Missing ostree -> sysroot/ostree link";
  if (!ostree.isSymbolicLink()) return "/ostree should be a symlink";
  const target = await readlink(join(dir, "ostree"));
  return target === "sysroot/ostree" ? undefined : `Expected /ostree -> sysroot/ostree, not "${target}"`;
}

export const baseimageRoot: NativeCheck = rootAndBaseimage(baseimageRootProblem);

export const varLog: NativeCheck = async (root) => {
  if (!(await lstatOptional(join(root, "var/log")))?.isDirectory()) return undefined;
  const files: string[] = [];
  await walk(
    root,
    (entry) => {
      if (entry.type === "file" && entry.size > 0) files.push(entry.path);
    },
    { start: "var/log", sizes: true },
  );
  return formatItems("Found non-empty logfiles", files.sort()) || undefined;
};

export const nonemptyBoot: NativeCheck = async (root) => {
  const boot = await lstatOptional(join(root, "boot"));
  if (!boot?.isDirectory()) return "Missing /boot directory";
  const entries = (await readdir(join(root, "boot"))).sort();
  return formatItems("Found non-empty /boot", entries) || undefined;
};

export const nonemptyRunTmp: NativeCheck = async (root) => {
  const found: string[] = [];
  for (const dir of ["run", "tmp"]) {
    if (!(await lstatOptional(join(root, dir)))?.isDirectory()) continue;
    await walk(
      root,
      (entry) => {
        found.push(entry.path);
      },
      { start: dir },
    );
  }
  return formatItems("Found content in runtime-only directories (/run, /tmp)", found) || undefined;
};

/** Names declared by sysusers.d lines (`u` declares a user and its group, `g` a group), as bootc reads them. */
export function sysusersNames(text: string): { users: Set<string>; groups: Set<string> } {
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const raw of text.split("\n")) {
    if (raw === "" || raw.startsWith("#")) continue;
    const [type, name] = raw.trim().split(/\s+/);
    const unquoted = name?.replace(/^"(.*)"$/, "$1");
    if (!unquoted) continue;
    if (type === "u") {
      users.add(unquoted);
      groups.add(unquoted);
    } else if (type === "g") groups.add(unquoted);
  }
  return { users, groups };
}

function namesIn(file: string | undefined): string[] {
  return (file ?? "")
    .split("\n")
    .map((line) => line.split(":")[0]?.trim() ?? "")
    .filter((name) => name && !name.startsWith("#"));
}

export const sysusers: NativeCheck = async (root) => {
  const declared = { users: new Set<string>(), groups: new Set<string>() };
  const dir = join(root, "usr/lib/sysusers.d");
  const names = (await lstatOptional(dir))?.isDirectory()
    ? (await readdir(dir)).filter((n) => n.endsWith(".conf")).sort()
    : [];
  for (const name of names) {
    const found = sysusersNames(await readFile(join(dir, name), "utf8"));
    for (const user of found.users) declared.users.add(user);
    for (const group of found.groups) declared.groups.add(group);
  }
  const users = [...new Set(namesIn(await readOptional(join(root, "etc/passwd"))))]
    .filter((u) => !declared.users.has(u))
    .sort();
  const groups = [...new Set(namesIn(await readOptional(join(root, "etc/group"))))]
    .filter((g) => !declared.groups.has(g))
    .sort();
  const message = [
    formatItems("Found /etc/passwd entry without corresponding systemd sysusers.d", users),
    formatItems("Found /etc/group entry without corresponding systemd sysusers.d", groups),
  ]
    .filter(Boolean)
    .join("\n");
  return message || undefined;
};

/** Every bootc rule we check natively, by bootc's name. */
export const BOOTC_NATIVE_CHECKS: Record<string, NativeCheck> = {
  "api-base-directories": apiBaseDirectories,
  "baseimage-composefs": baseimageComposefs,
  "baseimage-root": baseimageRoot,
  "bootc-kargs": bootcKargs,
  "buildah-injected": buildahInjected,
  "etc-usretc": etcUsretc,
  kernel,
  "nonempty-boot": nonemptyBoot,
  "nonempty-run-tmp": nonemptyRunTmp,
  sysusers,
  utf8,
  "var-log": varLog,
  "var-run": varRun,
};
