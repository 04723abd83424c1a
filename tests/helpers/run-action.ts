import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseActionMetadata, runAction, type ActionRun, type RunActionOptions } from "@frostyard/runner";

export type { ActionRun, RunActionOptions } from "@frostyard/runner";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The action directory for a name under actions/, "." for the root action, or a directory as is. */
export function actionDirOf(action: string): string {
  if (action === ".") return repoRoot;
  if (/^[\w.-]+$/.test(action) && existsSync(join(repoRoot, "actions", action)))
    return join(repoRoot, "actions", action);
  return resolve(action);
}

function newestSourceMtime(): number {
  let newest = statSync(join(repoRoot, "package-lock.json")).mtimeMs;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const pkg of readdirSync(join(repoRoot, "packages"))) {
    const src = join(repoRoot, "packages", pkg, "src");
    if (existsSync(src)) walk(src);
  }
  return newest;
}

/** Serialises builds of one bundle across vitest workers (each test file runs in its own process). */
function withBuildLock<T>(name: string, fn: () => T): T {
  const lock = join(repoRoot, ".tmp", "locks", `build-${name}`);
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than a build could take was left by a killed run.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmSync(lock, { force: true, recursive: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true, recursive: true });
  }
}

/**
 * Makes sure dist/<name>/index.js exists, building it with scripts/build.mjs when it is missing. Locally
 * it is also rebuilt when a source is newer, so a test never runs yesterday's bundle; in CI
 * (FROSTYARD_REQUIRE_TOOLS=1 or CI=true) the committed bundle is used as is: the dist-fresh test is what
 * reports a stale one, and rebuilding here would hide it.
 */
export function ensureBuilt(name: string): string {
  const bundle = join(repoRoot, "dist", name, "index.js");
  const inCi = process.env.FROSTYARD_REQUIRE_TOOLS === "1" || process.env.CI === "true";
  const needsBuild = () => !existsSync(bundle) || (!inCi && statSync(bundle).mtimeMs < newestSourceMtime());
  if (!needsBuild()) return bundle;
  withBuildLock(name, () => {
    if (!needsBuild()) return;
    const result = spawnSync(process.execPath, [join(repoRoot, "scripts", "build.mjs"), "--only", name], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    if (result.status !== 0) {
      throw new Error(`building dist/${name} failed:\n${result.stdout}${result.stderr}`);
    }
  });
  return bundle;
}

/**
 * Runs an action as it ships: its action.yml, and the bundle in dist/ its `runs.main` names (built first
 * when missing), through the same local runner as `frostyard-build run`.
 */
export async function runBuiltAction(
  action: string,
  options: Omit<RunActionOptions, "actionDir"> = {},
): Promise<ActionRun> {
  const actionDir = actionDirOf(action);
  const file = join(actionDir, "action.yml");
  const metadata = parseActionMetadata(readFileSync(file, "utf8"), file);
  for (const entry of [metadata.runs.main, metadata.runs.post]) {
    if (!entry) continue;
    const inDist = relative(join(repoRoot, "dist"), resolve(actionDir, entry));
    const name = inDist.split(sep)[0];
    if (name && !inDist.startsWith("..")) ensureBuilt(name);
  }
  return runAction({ ...options, actionDir });
}
