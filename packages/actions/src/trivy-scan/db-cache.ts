import { tmpdir } from "node:os";
import { join } from "node:path";
import * as actionsCache from "@actions/cache";
import type { Logger } from "@frostyard/kit";
import { DB_RESTORE_KEYS, DB_SUBDIR, dbCacheKey, downloadDb, type DbDownload } from "@frostyard/trivy";
import { GitHubActionsCache } from "../build-mkosi/cache-store";

/**
 * The one cache directory this action gives Trivy (`--cache-dir`): trivy-action's default and the paths its
 * users cache have drifted apart, so the directory is ours and named in the summary. FROSTYARD_TRIVY_CACHE
 * overrides it (a workstation keeps its DB between runs that way).
 */
export function trivyCacheDir(env: Record<string, string | undefined> = process.env): string {
  return env.FROSTYARD_TRIVY_CACHE || join(env.RUNNER_TEMP || tmpdir(), "frostyard-trivy-cache");
}

export interface DbState {
  /** "restored" = today's entry, so nothing was downloaded. */
  cache: "restored" | "stale" | "miss" | "unavailable";
  key: string;
  restoredKey?: string;
  download?: DbDownload;
  saved?: boolean;
}

/**
 * The vulnerability DB for today: today's cache entry when one exists (no download at all), else
 * downloaded (after restoring an older day's entry, which Trivy may find still current) and saved
 * under today's key.
 */
export async function prepareDb(
  trivy: string,
  cacheDir: string,
  repositories: readonly string[],
  logger: Logger,
  now: Date = new Date(),
): Promise<DbState> {
  const key = dbCacheKey(now);
  const paths = [join(cacheDir, DB_SUBDIR)];
  const hosted =
    Boolean(process.env.ACTIONS_CACHE_URL || process.env.ACTIONS_RESULTS_URL) &&
    actionsCache.isFeatureAvailable();
  const cache = hosted ? new GitHubActionsCache() : undefined;
  let restoredKey: string | undefined;
  if (cache) {
    try {
      restoredKey = await cache.restore(key, DB_RESTORE_KEYS, paths);
    } catch (error) {
      logger.warning(`restoring the Trivy DB from the cache failed: ${(error as Error).message}`);
    }
  }
  if (restoredKey === key) {
    logger.info(`today's Trivy DB restored from the cache (${key}): not downloading it again`);
    return { cache: "restored", key, restoredKey };
  }
  const state: DbState = {
    cache: !cache ? "unavailable" : restoredKey ? "stale" : "miss",
    key,
    ...(restoredKey ? { restoredKey } : {}),
  };
  state.download = await downloadDb(trivy, cacheDir, repositories, logger);
  if (cache) {
    try {
      await cache.save(key, paths);
      state.saved = true;
    } catch (error) {
      logger.warning(`saving the Trivy DB to the cache failed: ${(error as Error).message}`);
      state.saved = false;
    }
  }
  return state;
}
