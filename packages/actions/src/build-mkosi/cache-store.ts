import { homedir } from "node:os";
import { join } from "node:path";
import * as actionsCache from "@actions/cache";
import { LocalDirectoryCache, type BuildCache } from "@frostyard/mkosi";

/** The runner's cache service through @actions/cache; keys are immutable there, so a taken key is not an error. */
export class GitHubActionsCache implements BuildCache {
  readonly description = "GitHub Actions cache";

  async restore(
    key: string,
    restoreKeys: readonly string[],
    paths: readonly string[],
  ): Promise<string | undefined> {
    return actionsCache.restoreCache([...paths], key, [...restoreKeys]);
  }

  async save(key: string, paths: readonly string[]): Promise<void> {
    try {
      await actionsCache.saveCache([...paths], key);
    } catch (error) {
      if (error instanceof actionsCache.ReserveCacheError) return;
      throw error;
    }
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
