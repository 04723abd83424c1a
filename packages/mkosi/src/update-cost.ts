import type { Descriptor } from "@frostyard/oci";

/** What a host already running the previous image downloads to move to the new one. */
export interface UpdateCost {
  /** The previous image, as it was found (reference or layout path), and its digest. */
  previous: string;
  previousDigest: string;
  /** Bytes of the new layers the previous image does not have (compressed: what travels). */
  bytes: number;
  /** How many of the new image's layers are new, of how many. */
  layers: number;
  totalLayers: number;
  /** The new image's layer bytes, and `bytes` as a share of them (0–100, one decimal). */
  totalBytes: number;
  percent: number;
  /** The new layers, with the packages they hold. */
  changed: { digest: string; size: number; packages: string[] }[];
}

/** Compares the new image's layers with the previous image's by digest: a host fetches the ones it lacks. */
export function updateCost(
  previous: { source: string; digest: string; layers: readonly Pick<Descriptor, "digest">[] },
  layers: readonly { digest: string; size: number; packages: readonly string[] }[],
): UpdateCost {
  const held = new Set(previous.layers.map((l) => l.digest));
  const seen = new Set<string>();
  const changed = layers.filter((l) => !held.has(l.digest) && !seen.has(l.digest) && seen.add(l.digest));
  const bytes = changed.reduce((sum, l) => sum + l.size, 0);
  const totalBytes = layers.reduce((sum, l) => sum + l.size, 0);
  return {
    previous: previous.source,
    previousDigest: previous.digest,
    bytes,
    layers: changed.length,
    totalLayers: layers.length,
    totalBytes,
    percent: totalBytes === 0 ? 0 : Math.round((bytes / totalBytes) * 1000) / 10,
    changed: changed.map((l) => ({ digest: l.digest, size: l.size, packages: [...l.packages] })),
  };
}

/** One package whose version differs between two builds (undefined: not installed on that side). */
export interface PackageChange {
  name: string;
  from?: string;
  to?: string;
}

/** Package versions from an mkosi JSON manifest (`packages: [{ name, version, architecture }]`). */
export function manifestPackages(json: string): Map<string, string> {
  const parsed = JSON.parse(json) as {
    packages?: { name?: unknown; version?: unknown; architecture?: unknown }[];
  };
  const versions = new Map<string, string>();
  for (const pkg of parsed.packages ?? []) {
    if (typeof pkg.name !== "string" || typeof pkg.version !== "string") continue;
    versions.set(pkg.name, pkg.version);
  }
  return versions;
}

/** Packages added, removed or at another version, sorted by name. */
export function packageChanges(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): PackageChange[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names
    .filter((name) => before.get(name) !== after.get(name))
    .map((name) => ({
      name,
      ...(before.has(name) ? { from: before.get(name) } : {}),
      ...(after.has(name) ? { to: after.get(name) } : {}),
    }));
}
