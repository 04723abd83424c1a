import type { Timings } from "@frostyard/kit";
import type { MkosiImage } from "./summary";

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
}

/** What a build did, filled in as it goes so a failed build still reports how far it got. */
export interface BuildReport {
  mkosiVersion: string;
  profiles: readonly string[];
  imageVersion: string;
  images: readonly MkosiImage[];
  /** Bytes on disk per image output (a directory's files summed), by output path. */
  sizes: ReadonlyMap<string, number>;
  cache: CacheReport;
  freeBefore?: number;
  freeAfter?: number;
  workVolume?: string;
  layers?: readonly LayerReport[];
  ociLayout?: string;
  digest?: string;
  pushed?: { image: string; tags: readonly string[]; uploadedBytes: number; skippedBlobs: number };
  timings: Timings;
  failed?: string;
}

export function cacheOutcome(key: string, restored: string | undefined): "hit" | "partial" | "miss" {
  if (restored === undefined) return "miss";
  return restored === key ? "hit" : "partial";
}
