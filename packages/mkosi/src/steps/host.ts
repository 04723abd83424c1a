import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { access, constants, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { execStreaming, InputError, type Logger } from "@frostyard/kit";
import { withSudo } from "../sudo";
import type { Environment } from "./context";

/** The first `name` on the environment's PATH. */
export function onPath(name: string, env: Environment): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** `git -C directory …`'s trimmed stdout, or undefined when git fails (no repository, no git). */
export function git(directory: string, env: Environment, ...args: string[]): string | undefined {
  const result = spawnSync("git", ["-C", directory, ...args], { encoding: "utf8", env: { ...env } });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Creates `path` (with sudo when we may and must) and checks we can write it; `input` names it in errors. */
export async function ensureWritableDirectory(
  path: string,
  input: string,
  access_: { sudo: boolean; uid: number; gid?: number; logger: Logger },
): Promise<void> {
  const { sudo, uid, logger } = access_;
  try {
    await mkdir(path, { recursive: true });
    await access(path, constants.W_OK);
    return;
  } catch (error) {
    if (sudo) {
      const make = withSudo("mkdir", ["-p", path], true, []);
      const chown = withSudo("chown", [`${uid}:${access_.gid ?? process.getgid?.() ?? 0}`, path], true, []);
      const made = await execStreaming(make.command, make.args, { logger, ignoreReturnCode: true });
      if (made.exitCode === 0) {
        await execStreaming(chown.command, chown.args, { logger });
        return;
      }
    }
    throw new InputError(
      input,
      `cannot create or write '${path}' (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      "a directory this job may create and write",
    );
  }
}

/**
 * Bytes of a file, or of every regular file below a directory (hardlinks once), without following symlinks.
 * A directory's entries are looked at all at once: a rootfs has tens of thousands of files, and one stat
 * after another took longer than packaging's own walk of the same tree.
 */
export async function diskUsage(path: string): Promise<number | undefined> {
  const seen = new Set<string>();
  const walk = async (p: string): Promise<number> => {
    const info = await stat(p).catch(() => undefined);
    if (!info) return 0;
    if (info.isFile()) {
      const id = `${info.dev}:${info.ino}`;
      if (seen.has(id)) return 0;
      seen.add(id);
      return info.size;
    }
    if (!info.isDirectory()) return 0;
    const entries = await readdir(p, { withFileTypes: true }).catch(() => []);
    const sizes = await Promise.all(
      entries.filter((entry) => !entry.isSymbolicLink()).map((entry) => walk(join(p, entry.name))),
    );
    return sizes.reduce((sum, size) => sum + size, 0);
  };
  if (!existsSync(path)) return undefined;
  return walk(path);
}

export async function readSysctl(key: string): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/sys/${key.replace(/\./g, "/")}`, "utf8")).trim();
  } catch {
    return undefined;
  }
}

export async function osId(): Promise<string | undefined> {
  const text = await readFile("/etc/os-release", "utf8").catch(() => "");
  return /^ID="?([^"\n]+)"?$/m.exec(text)?.[1];
}
