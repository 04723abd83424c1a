import type { Logger, ToolCache } from "@frostyard/kit";
import type { BuildCache } from "../build-cache";
import { newBuildReport, type BuildReport } from "../build-report";
import type { CacheRefresh } from "../cache-key";
import type { BuildVariable } from "../environment";
import { defaultImageVersion } from "../image-version";
import type { MkosiSource } from "../install";
import type { SudoMode } from "../sudo";

export type Environment = Readonly<Record<string, string | undefined>>;

/** What any mkosi build needs, whatever it makes (an OS image, sysexts, a disk). */
export interface MkosiBuildOptions {
  /** The mkosi project, relative to `workspace`. */
  directory: string;
  /** Where relative paths start; default the current directory. */
  workspace?: string;
  profiles: string[];
  /** Undefined: UTC %Y%m%d%H%M%S now. */
  imageVersion?: string;
  /** mkosi's architecture name to build for (`--architecture`); undefined: the project's, else the machine's. */
  architecture?: string;
  variables: BuildVariable[];
  args: string[];
  sudo: SudoMode;
  mkosi: MkosiSource;
  cache: boolean;
  /** How often the cache starts cold so package updates land (the period is in the key); default weekly. */
  cacheRefresh?: CacheRefresh;
  workDirectory?: string;
  outputDirectory?: string;
  sourceDateEpoch?: number;
}

/** Where the post step finds mkosi's cache to save; the caller keeps it between the main and post steps. */
export interface BuildCacheState {
  key: string;
  cacheDirectory: string;
  archive: string;
  sudo: boolean;
  /** The key restored, when one was. */
  restored?: string;
  /** The cache directory is a tmpfs the main step mounted (exact hits only); the post step unmounts it. */
  tmpfs?: boolean;
}

/** The impure edges of a build, every one replaceable (tests, the local CLI, another runner). */
export interface BuildDeps {
  logger: Logger;
  cache: BuildCache;
  /** Read for PATH, SOURCE_DATE_EPOCH, GITHUB_*, RUNNER_*, TMPDIR and handed to mkosi; default process.env. */
  env?: Environment;
  now?: () => Date;
  /** Our user id (sudo decisions, directory ownership); default process.getuid(). */
  uid?: number;
  /** Where a pinned mkosi is installed; default @actions/tool-cache. */
  toolCache?: ToolCache;
  /**
   * Persists the cache state for the post step as soon as it is known (before the restore, again after it):
   * a main step that dies mid-build still leaves the post step what it needs to save.
   */
  onCacheState?: (state: BuildCacheState) => void;
  /**
   * The build's one report channel: filled in as the build goes, so a caller still has how far it got when
   * the build throws. Default: a new report, returned.
   */
  report?: BuildReport;
}

/** One build's settings and edges, shared by every step. */
export interface BuildContext {
  readonly options: MkosiBuildOptions;
  readonly imageVersion: string;
  readonly logger: Logger;
  readonly cache: BuildCache;
  readonly env: Environment;
  readonly now: Date;
  readonly uid: number;
  readonly toolCache?: ToolCache;
  readonly onCacheState: (state: BuildCacheState) => void;
  readonly report: BuildReport;
}

export function newBuildContext(options: MkosiBuildOptions, deps: BuildDeps): BuildContext {
  const now = deps.now?.() ?? new Date();
  const imageVersion = options.imageVersion ?? deps.report?.imageVersion ?? defaultImageVersion(now);
  return {
    options,
    imageVersion,
    logger: deps.logger,
    cache: deps.cache,
    env: deps.env ?? process.env,
    now,
    uid: deps.uid ?? process.getuid?.() ?? 0,
    ...(deps.toolCache ? { toolCache: deps.toolCache } : {}),
    onCacheState: deps.onCacheState ?? (() => {}),
    report: deps.report ?? newBuildReport(options, imageVersion),
  };
}

/** Runs a build's steps; a failure is recorded in the report (the summary says how far it got), then thrown. */
export async function recordingFailure<T>(context: BuildContext, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    context.report.failed = error instanceof Error ? error.message : String(error);
    throw error;
  }
}
