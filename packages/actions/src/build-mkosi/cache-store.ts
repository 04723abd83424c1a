import { homedir } from "node:os";
import { mkdir } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import * as actionsCache from "@actions/cache";
import { LocalDirectoryCache, type BuildCache } from "@frostyard/mkosi";

/**
 * The runner's cache service through @actions/cache; keys are immutable there, so a taken key is not an
 * error. The service matches an entry only under the same "version", a hash of the paths as given; the
 * action's archive lives in a work directory that may differ between runs (the volume with the most free
 * space), so files of one directory go in by name, relative to it, and come back into whatever directory
 * the restoring run names.
 */
export class GitHubActionsCache implements BuildCache {
  readonly description = "GitHub Actions cache";

  async restore(
    key: string,
    restoreKeys: readonly string[],
    paths: readonly string[],
  ): Promise<string | undefined> {
    return inDirectoryOf(paths, (names) => actionsCache.restoreCache(names, key, [...restoreKeys]));
  }

  async save(key: string, paths: readonly string[]): Promise<void> {
    await inDirectoryOf(paths, async (names) => {
      let id: number;
      try {
        id = await actionsCache.saveCache(names, key);
      } catch (error) {
        if (error instanceof actionsCache.ReserveCacheError) return;
        throw error;
      }
      if (id !== -1) return;
      // @actions/cache reports every failure as -1 after a warning; a key another run saved first is fine.
      const existing = await actionsCache.restoreCache(names, key, [], { lookupOnly: true });
      if (existing !== key)
        throw new Error(`the GitHub Actions cache did not store ${key} (see its warning above)`);
    });
  }
}

/**
 * Runs an @actions/cache call with paths named relative to their common directory, which becomes the
 * working directory (glob patterns resolve against it) and GITHUB_WORKSPACE (tar's -C). Paths in several
 * directories are passed as they are.
 */
async function inDirectoryOf<T>(paths: readonly string[], call: (names: string[]) => Promise<T>): Promise<T> {
  const dirs = new Set(paths.map((path) => dirname(path)));
  const [dir] = dirs;
  if (dirs.size !== 1 || dir === undefined || !isAbsolute(dir)) return call([...paths]);
  await mkdir(dir, { recursive: true });
  const cwd = process.cwd();
  const workspace = process.env.GITHUB_WORKSPACE;
  process.chdir(dir);
  process.env.GITHUB_WORKSPACE = dir;
  try {
    return await call(paths.map((path) => basename(path)));
  } finally {
    process.chdir(cwd);
    if (workspace === undefined) delete process.env.GITHUB_WORKSPACE;
    else process.env.GITHUB_WORKSPACE = workspace;
  }
}

/** Where the local store lives: FROSTYARD_BUILD_CACHE, else beside the toolbox cache (root) or in ~/.cache. */
export function localCacheRoot(env: Record<string, string | undefined>, uid: number): string {
  if (env.FROSTYARD_BUILD_CACHE) return env.FROSTYARD_BUILD_CACHE;
  if (uid === 0) return join(env.FROSTYARD_CACHE || "/var/cache/frostyard", "build-cache");
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "frostyard", "build-cache");
}

/** The cache service when the runner offers one, else a local directory (workstation, local CLI, tests). */
export function selectBuildCache(env: Record<string, string | undefined> = process.env): BuildCache {
  if ((env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL) && actionsCache.isFeatureAvailable()) {
    return new GitHubActionsCache();
  }
  return new LocalDirectoryCache(localCacheRoot(env, process.getuid?.() ?? 0));
}
