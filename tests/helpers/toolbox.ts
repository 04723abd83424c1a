import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hasTool } from "./tools";

/**
 * The trixie toolbox (docs/toolbox.md): a Debian trixie chroot with mkosi 25, systemd-repart 257 and a
 * sigstore-enabled skopeo, built once per machine by scripts/toolbox/build.sh and cached as a tarball.
 * Tests get it with `ensureToolbox()` in `beforeAll` (allow TOOLBOX_BUILD_TIMEOUT_MS: a cold build takes
 * about 1.5 minutes) and either put `toolbox.env` on a child process, so its `mkosi …` calls run the
 * toolbox's, or run single commands with `inToolbox`.
 */
export interface Toolbox {
  /** The chroot tree (ROOT for scripts/toolbox/enter.sh). */
  root: string;
  /** Holds the wrappers `mkosi`, `systemd-repart`, `skopeo-trixie` and `toolbox-enter`. */
  binDir: string;
  /** Environment to merge into a child process: PATH with `binDir` first. */
  env: Record<string, string>;
}

export interface InToolboxOptions {
  /** Host paths to make visible inside at the same path (files or directories). */
  binds?: string[];
  /** Variables for the command; values travel in the environment, only their names in argv. */
  env?: Record<string, string>;
  /** Working directory, bound inside at the same path; "/" (the default) binds nothing. */
  cwd?: string;
  /** Kill the command after this long; defaults to 120 s. */
  timeoutMs?: number;
}

export interface ToolboxResult {
  /** The command's exit code (125 when enter.sh itself refused), or null when killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export const TOOLBOX_SCRIPTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/toolbox");
/** Generous enough for a cold build on a 2-core machine with a slow mirror; a warm call takes under 10 s. */
export const TOOLBOX_BUILD_TIMEOUT_MS = 15 * 60_000;

export function toolboxCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FROSTYARD_CACHE || "/var/cache/frostyard";
}

/** The tools enter.sh and build.sh need on the host; debootstrap and zstd build.sh installs with apt-get. */
const HOST_TOOLS = ["bash", "unshare", "chroot", "mount", "flock", "findmnt", "tar", "sha256sum"];

/**
 * Why the toolbox cannot be had on this machine, for `describe.skipIf(toolboxUnavailable())`, or false.
 * Like `missingTools`, it prints the reason and skips locally but throws under FROSTYARD_REQUIRE_TOOLS=1.
 */
export function toolboxUnavailable(): string | false {
  const reasons: string[] = [];
  if (process.getuid?.() !== 0) reasons.push("not root (the toolbox mounts and chroots)");
  const missing = HOST_TOOLS.filter((bin) => !hasTool(bin));
  for (const bin of ["debootstrap", "zstd"]) {
    if (!hasTool(bin) && !hasTool("apt-get")) missing.push(bin);
  }
  if (missing.length > 0) reasons.push(`missing tool(s): ${missing.join(", ")}`);
  if (reasons.length === 0) return false;
  const reason = `trixie toolbox unavailable: ${reasons.join("; ")}`;
  if (process.env.FROSTYARD_REQUIRE_TOOLS === "1") {
    throw new Error(`${reason}; FROSTYARD_REQUIRE_TOOLS=1 forbids skipping`);
  }
  console.warn(`SKIP: ${reason}`);
  return reason;
}

/** enter.sh's argv for a command: options first, then ROOT, `--` and the command untouched. */
export function enterArgv(
  root: string,
  command: string[],
  options: { binds?: string[]; envNames?: string[] } = {},
): string[] {
  if (command.length === 0)
    throw new Error("inToolbox: the command is empty; pass at least the program name");
  const argv: string[] = [];
  for (const bind of options.binds ?? []) argv.push("--bind", bind);
  for (const name of options.envNames ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(
        `inToolbox: env name ${JSON.stringify(name)} is not a variable name; accepted: letters, digits, "_"`,
      );
    }
    argv.push("--env", name);
  }
  argv.push(root, "--", ...command);
  return argv;
}

/** [major, minor, patch] of the first version number in a `--version` output ("systemd 257 (257.13-1)" → 257.0.0). */
export function parseVersion(output: string): [number, number, number] {
  const match = /(?:^|[\s(v])(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!match) throw new Error(`no version number in ${JSON.stringify(output.slice(0, 200))}`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

export function versionAtLeast(
  version: [number, number, number],
  minimum: [number, number, number],
): boolean {
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== minimum[i]!) return version[i]! > minimum[i]!;
  }
  return true;
}

/** Mount points at or below `path` in this (the host's) mount namespace: empty unless something leaked. */
export function mountsUnder(path: string): string[] {
  const result = spawnSync("findmnt", ["-rn", "-o", "TARGET"], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`findmnt failed (exit ${result.status}): ${result.stderr}`);
  return result.stdout.split("\n").filter((target) => target === path || target.startsWith(`${path}/`));
}

function run(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<ToolboxResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd ?? "/",
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${argv[0]}: ${error.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

function lastLines(text: string, count = 20): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

let ensured: Promise<Toolbox> | undefined;

/**
 * Builds the toolbox, or unpacks this week's cached tarball, or finds it ready (build.sh decides and
 * serialises parallel callers with a lock), then writes the wrappers. Once per process.
 */
export function ensureToolbox(): Promise<Toolbox> {
  ensured ??= (async () => {
    const cache = toolboxCacheDir();
    const root = join(cache, "toolbox-trixie");
    const binDir = join(cache, "toolbox-trixie-bin");
    const build = await run(["bash", join(TOOLBOX_SCRIPTS, "build.sh"), root], {
      timeoutMs: TOOLBOX_BUILD_TIMEOUT_MS,
    });
    if (build.code !== 0) {
      throw new Error(
        `scripts/toolbox/build.sh ${root} failed (exit ${build.code}):\n${lastLines(build.stderr + build.stdout)}`,
      );
    }
    const wrappers = await run(["bash", join(TOOLBOX_SCRIPTS, "wrappers.sh"), root, binDir], {
      timeoutMs: 60_000,
    });
    if (wrappers.code !== 0 || !existsSync(join(binDir, "mkosi"))) {
      throw new Error(
        `scripts/toolbox/wrappers.sh ${root} ${binDir} failed (exit ${wrappers.code}):\n${lastLines(wrappers.stderr)}`,
      );
    }
    return {
      root,
      binDir,
      env: { PATH: `${binDir}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` },
    };
  })();
  // A failed attempt is not remembered, so a later call retries instead of replaying the error.
  ensured.catch(() => (ensured = undefined));
  return ensured;
}

/** Runs `args` inside the toolbox (through enter.sh) and returns its exit code and output; never throws on a non-zero exit. */
export async function inToolbox(args: string[], options: InToolboxOptions = {}): Promise<ToolboxResult> {
  const toolbox = await ensureToolbox();
  const env = options.env ?? {};
  const argv = enterArgv(toolbox.root, args, { binds: options.binds ?? [], envNames: Object.keys(env) });
  return run(["bash", join(toolbox.binDir, "toolbox-enter"), ...argv], {
    cwd: options.cwd ?? "/",
    env: { ...process.env, ...env },
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}
