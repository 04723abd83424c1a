import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import { downloadDbArgv } from "./argv";

/** The cache entry of the DB: one per UTC day, as trivy-action keys it, so a day's runs share one download. */
export const DB_CACHE_PREFIX = "cache-trivy-";

export function dbCacheKey(now: Date): string {
  return `${DB_CACHE_PREFIX}${now.toISOString().slice(0, 10)}`;
}

/** Older days' entries are still worth restoring: Trivy then fetches only when its DB is out of date. */
export const DB_RESTORE_KEYS: readonly string[] = [DB_CACHE_PREFIX];

/** The directory under the cache dir that Trivy keeps its vulnerability DB in, and that is cached. */
export const DB_SUBDIR = "db";

export interface DbMetadata {
  version?: number;
  updatedAt?: Date;
  nextUpdate?: Date;
  downloadedAt?: Date;
}

function date(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) || parsed.getUTCFullYear() < 2000 ? undefined : parsed;
}

/** trivy-db's metadata.json (Version, UpdatedAt, NextUpdate, DownloadedAt). */
export function parseDbMetadata(text: string): DbMetadata {
  const data = JSON.parse(text) as Record<string, unknown>;
  return {
    ...(typeof data.Version === "number" ? { version: data.Version } : {}),
    ...(date(data.UpdatedAt) ? { updatedAt: date(data.UpdatedAt) } : {}),
    ...(date(data.NextUpdate) ? { nextUpdate: date(data.NextUpdate) } : {}),
    ...(date(data.DownloadedAt) ? { downloadedAt: date(data.DownloadedAt) } : {}),
  };
}

export async function readDbMetadata(cacheDir: string): Promise<DbMetadata | undefined> {
  const text = await readFile(join(cacheDir, DB_SUBDIR, "metadata.json"), "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseDbMetadata(text);
}

/** "3 h", "2 d 4 h": how old the DB's content is (since trivy-db built it). */
export function formatAge(from: Date, now: Date): string {
  const hours = Math.max(0, Math.floor((now.getTime() - from.getTime()) / 3_600_000));
  if (hours < 1) return "under 1 h";
  if (hours < 48) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

export interface DbDownload {
  /** The repository the DB came from. */
  repository: string;
  /** Repositories tried before it, each with why it failed. */
  failed: { repository: string; error: string }[];
}

/** Every repository failed; the message lists each one and its error. */
export class DbDownloadError extends Error {
  override name = "DbDownloadError";
}

/**
 * Fetches the vulnerability DB into `cacheDir` from the first repository that answers: the next one is
 * tried only when one fails, so a GHCR rate limit or an unreachable mirror costs one attempt, not the run.
 */
export async function downloadDb(
  trivy: string,
  cacheDir: string,
  repositories: readonly string[],
  logger: Logger,
  env?: Record<string, string | undefined>,
): Promise<DbDownload> {
  const failed: DbDownload["failed"] = [];
  for (const repository of repositories) {
    try {
      await execStreaming(trivy, downloadDbArgv(cacheDir, repository), {
        logger,
        ...(env ? { env, extendEnv: true } : {}),
      });
      return { repository, failed };
    } catch (error) {
      const message = (error as Error).message;
      logger.warning(`the vulnerability DB could not be fetched from ${repository}: ${message}`);
      failed.push({ repository, error: message });
    }
  }
  throw new DbDownloadError(
    `the vulnerability DB could not be fetched from any repository: ${failed
      .map((f) => `${f.repository} (${f.error})`)
      .join("; ")}`,
  );
}
