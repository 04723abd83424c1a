import { createHash } from "node:crypto";
import { relative, isAbsolute } from "node:path";
import type { MkosiImage } from "./mkosi-summary";

export interface ConfigFile {
  /** As mkosi reported it (absolute), or relative to the project. */
  path: string;
  content: Buffer | string;
}

/**
 * sha256 over the project's config files and scripts, each as (path relative to the project, content),
 * in path order: independent of where the checkout lives and of the order mkosi listed them.
 */
export function hashConfigFiles(projectDirectory: string, files: readonly ConfigFile[]): string {
  const hash = createHash("sha256");
  const entries = files
    .map((file) => ({
      path: isAbsolute(file.path) ? relative(projectDirectory, file.path) : file.path,
      content: file.content,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let previous: string | undefined;
  for (const entry of entries) {
    if (entry.path === previous) continue;
    previous = entry.path;
    const content = typeof entry.content === "string" ? Buffer.from(entry.content) : entry.content;
    hash.update(`${entry.path}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex");
}

/** Every config file and script of every image, once each. */
export function configFilePaths(images: readonly MkosiImage[]): string[] {
  return [...new Set(images.flatMap((image) => [...image.files, ...image.scripts]))].sort();
}

export const CACHE_REFRESHES = ["daily", "weekly", "monthly", "never"] as const;
export type CacheRefresh = (typeof CACHE_REFRESHES)[number];

/** ISO 8601 week of a UTC date: the week belongs to the year of its Thursday. */
function isoWeek(date: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  return { year: day.getUTCFullYear(), week: Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

/**
 * The cache period `now` falls in: part of the cache key and of every restore key, so a new period starts
 * cold and the package set is installed afresh from the repositories (mkosi's incremental cache manifest
 * tracks the config, not the repositories' state, so without it security updates would never land).
 * `never` keeps one period forever.
 */
export function cachePeriod(refresh: CacheRefresh, now: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  switch (refresh) {
    case "daily":
      return `d${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
    case "weekly": {
      const { year, week } = isoWeek(now);
      return `w${year}W${pad(week)}`;
    }
    case "monthly":
      return `m${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}`;
    case "never":
      return "forever";
  }
}

export interface CacheKeyInput {
  images: readonly MkosiImage[];
  profiles: readonly string[];
  mkosiVersion: string;
  configHash: string;
  /** From `cachePeriod`; undefined: no period (every restore key spans all time). */
  period?: string;
}

export interface CacheKeys {
  key: string;
  /** Most specific first: same profiles with another config, then any config of the same target. */
  restoreKeys: string[];
}

/** Cache keys allow no commas (the cache service splits on them) and are kept short and readable. */
function part(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, "_") || "none";
}

/**
 * `mkosi-<mkosi version>-<distribution>-<release>-<architecture>-<period>-<profiles>-<config hash>` of the
 * main image. A changed config misses the key but restores the newest cache of the same target and period
 * through the restore keys: mkosi then checks each incremental image against its own cache manifest and
 * rebuilds only what no longer matches, so a stale restore costs a rebuild, never a wrong image. The
 * restore keys never leave the period, so a new period starts cold.
 */
export function cacheKeys(input: CacheKeyInput): CacheKeys {
  const main = input.images.at(-1);
  if (!main) throw new Error("cacheKeys: no images");
  const target = [
    "mkosi",
    input.mkosiVersion,
    main.distribution,
    main.release,
    main.architecture,
    ...(input.period !== undefined ? [input.period] : []),
  ]
    .map(part)
    .join("-");
  const profiles = input.profiles.length > 0 ? [...input.profiles].sort().map(part).join("+") : "default";
  return {
    key: `${target}-${profiles}-${input.configHash.slice(0, 16)}`,
    restoreKeys: [`${target}-${profiles}-`, `${target}-`],
  };
}
