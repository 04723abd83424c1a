import { Timings } from "@frostyard/kit";
import type { MkosiImage } from "./mkosi-summary";
import type { PackageChange, UpdateCost } from "./update-cost";

export interface CacheReport {
  enabled: boolean;
  /** "hit" (exact key), "partial" (a restore key), "miss". */
  outcome?: "hit" | "partial" | "miss";
  key?: string;
  restoredKey?: string;
  /** Bytes of the restored archive. */
  restoredBytes?: number;
  store?: string;
  /** The cache period in the key (`cache-refresh`), e.g. w2026W48. */
  period?: string;
  /** Bytes of the archive the post step saved (set by the post step, appended to the summary). */
  savedBytes?: number;
}

export interface LayerReport {
  digest: string;
  size: number;
  packages: string[];
  /** Taken over from the previous image (same diff_id) instead of compressed again. */
  reused?: boolean;
}

/** What a host on the previous image downloads, and which packages changed when both manifests are known. */
export interface UpdateReport extends UpdateCost {
  packages?: PackageChange[];
}

/**
 * What a build did: its one report channel. The steps fill it in as they go, so a failed build still
 * reports how far it got, and the caller reads outputs and the summary from it.
 */
export interface BuildReport {
  mkosiVersion: string;
  profiles: readonly string[];
  imageVersion: string;
  /** From `mkosi --json summary`: subimages in dependency order, then the main image. */
  images: readonly MkosiImage[];
  /** Bytes on disk per image output (a directory's files summed), by output path. */
  sizes: Map<string, number>;
  cache: CacheReport;
  freeBefore?: number;
  freeAfter?: number;
  workVolume?: string;
  /** After the build: the main image's directory tree ("" when its format is not a directory). */
  rootfs?: string;
  /** After the build: the main image's package manifest ("" when mkosi wrote none). */
  mkosiManifest?: string;
  /** After packaging: the OCI layout, its manifest digest (under the image version) and its layers. */
  ociLayout?: string;
  digest?: string;
  layers?: readonly LayerReport[];
  /** Against the previous image, when one was found. */
  update?: UpdateReport;
  timings: Timings;
  failed?: string;
}

/** An empty report for a build of `imageVersion`. */
export function newBuildReport(
  options: { profiles: readonly string[]; cache: boolean },
  imageVersion: string,
): BuildReport {
  return {
    mkosiVersion: "?",
    profiles: options.profiles,
    imageVersion,
    images: [],
    sizes: new Map(),
    cache: { enabled: options.cache },
    timings: new Timings(),
  };
}

export function cacheOutcome(key: string, restored: string | undefined): "hit" | "partial" | "miss" {
  if (restored === undefined) return "miss";
  return restored === key ? "hit" : "partial";
}
