import { readFile, readdir, rm, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { Logger } from "@frostyard/kit";
import type { BuildCache } from "../build-cache";
import { cacheOutcome } from "../build-report";
import { packDirectory, unpackDirectory } from "../cache-archive";
import { cacheKeys, cachePeriod, configFilePaths, hashConfigFiles } from "../cache-key";
import { availableMemory, mountCacheTmpfs, readMeminfo, tmpfsSize, unmountCacheTmpfs } from "../cache-tmpfs";
import type { BuildCacheState, BuildContext } from "./context";
import type { PlannedBuild } from "./summary";

/**
 * Restore cache: mkosi's cache directory from the build cache, under a key of the mkosi version, the images,
 * the profiles, the config files and the refresh period. A failed restore builds without it.
 */
export async function restoreCacheStep(context: BuildContext, plan: PlannedBuild): Promise<void> {
  if (!context.options.cache) return;
  await context.report.timings.time("restore cache", () => restoreCache(context, plan));
}

async function restoreCache(context: BuildContext, plan: PlannedBuild): Promise<void> {
  const { logger, cache: store, report } = context;
  const { directory, cacheDirectory, workRoot, sudo } = plan;
  const period = cachePeriod(context.options.cacheRefresh ?? "weekly", context.now);
  const files = [];
  for (const path of configFilePaths(plan.images)) {
    const absolute = isAbsolute(path) ? path : join(directory, path);
    const content = await readFile(absolute).catch(() => undefined);
    if (content !== undefined) files.push({ path: absolute, content });
  }
  const keys = cacheKeys({
    images: plan.images,
    profiles: report.profiles,
    mkosiVersion: report.mkosiVersion,
    configHash: hashConfigFiles(directory, files),
    period,
  });
  const archive = join(workRoot, "mkosi-cache.tar.zst");
  report.cache = { enabled: true, key: keys.key, store: store.description, period };
  const state: BuildCacheState = { key: keys.key, cacheDirectory, archive, sudo };
  context.onCacheState(state);
  logger.info(`Cache key ${keys.key} (${store.description}); restore keys: ${keys.restoreKeys.join(", ")}`);
  let restored: string | undefined;
  try {
    restored = await store.restore(keys.key, keys.restoreKeys, [archive]);
  } catch (error) {
    logger.warning(`Restoring the mkosi cache failed, building without it: ${(error as Error).message}`);
  }
  report.cache.outcome = cacheOutcome(keys.key, restored);
  if (restored === undefined) {
    logger.info("Cache miss: mkosi builds from scratch and the post step saves its cache");
    return;
  }
  report.cache.restoredKey = restored;
  const restoredBytes = (await stat(archive)).size;
  report.cache.restoredBytes = restoredBytes;
  context.onCacheState({ ...state, restored });
  // Only an exact hit leaves the cache untouched by mkosi (a restore-key hit makes it rebuild the cache in
  // place, as big as the image), and only our own cache directory is ours to mount over.
  const size =
    restored === keys.key && cacheDirectory === join(workRoot, "cache")
      ? tmpfsSize(restoredBytes, availableMemory(await readMeminfo()))
      : undefined;
  const tmpfs = size !== undefined && (await mountCacheTmpfs(cacheDirectory, size, { sudo, logger }));
  if (tmpfs) context.onCacheState({ ...state, restored, tmpfs });
  try {
    await unpackDirectory(archive, cacheDirectory, { sudo, logger });
  } catch (error) {
    if (!tmpfs) throw error;
    // Bigger than the estimate: give the memory back and unpack onto the disk as without a tmpfs.
    logger.info(`Unpacking into the tmpfs failed (${(error as Error).message}); unpacking onto the disk`);
    await unmountCacheTmpfs(cacheDirectory, { sudo, logger });
    context.onCacheState({ ...state, restored });
    await unpackDirectory(archive, cacheDirectory, { sudo, logger });
  }
  await rm(archive, { force: true });
  logger.info(`Cache ${report.cache.outcome}: restored ${restored} into ${cacheDirectory}`);
}

/** The post step: saves mkosi's cache directory, also after a failed build; an exact hit is already stored. */
export async function saveBuildCache(
  state: BuildCacheState,
  deps: {
    logger: Logger;
    cache: BuildCache;
    /** Told the bytes of the archive handed to the store, for the summary. */
    onSaved?: (bytes: number) => void;
  },
): Promise<"saved" | "hit" | "empty"> {
  const { logger, cache: store } = deps;
  if (state.restored === state.key) {
    logger.info(`Cache ${state.key} was restored exactly; nothing to save`);
    if (state.tmpfs) await unmountCacheTmpfs(state.cacheDirectory, { sudo: state.sudo, logger });
    return "hit";
  }
  const entries = await readdir(state.cacheDirectory).catch(() => []);
  if (entries.length === 0) {
    logger.info(`mkosi's cache directory ${state.cacheDirectory} is empty; nothing to save`);
    return "empty";
  }
  await packDirectory(state.cacheDirectory, state.archive, { sudo: state.sudo, logger });
  const size = (await stat(state.archive)).size;
  await store.save(state.key, [state.archive]);
  await rm(state.archive, { force: true });
  deps.onSaved?.(size);
  logger.info(
    `Saved mkosi's cache as ${state.key} (${Math.round(size / 2 ** 20)} MiB, ${store.description})`,
  );
  return "saved";
}
