import { createHash } from "node:crypto";

/** One path in the root filesystem, relative to it (`usr/bin/ls`, no leading `/` or `./`). */
export interface RootfsEntry {
  path: string;
  kind: "directory" | "file" | "symlink" | "other";
  /** Bytes of content (0 for anything but regular files). */
  size: number;
  /** `dev:ino` for regular files with more than one link, so hardlinked names stay in one layer. */
  inode?: string;
}

export type LayerKind = "all" | "skeleton" | "package" | "bin" | "unowned" | "package-database";

export interface LayerPlan {
  kind: LayerKind;
  /** Owning packages whose files the layer holds, sorted. */
  packages: string[];
  /** Paths in archive order (sorted; parents before children). */
  paths: string[];
  /** Bytes of regular-file content, hardlinked content counted once. */
  size: number;
  /** For `bin` and `unowned` layers, which bin (stable across builds for a given max-layers). */
  bin?: number;
}

export const DEFAULT_MAX_LAYERS = 64;
export const MAX_MAX_LAYERS = 128;

/** Byte-wise order for UTF-8 paths, the order `tar --sort=name` uses. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * How the layers between the skeleton and the package database are split: `big` slots for packages
 * large enough to stand alone, `bins` for the other packages by a hash of the name, `unownedBins` for
 * files no package owns by a hash of their directory. All depend only on max-layers, never on what is
 * installed, so a package added or removed moves no other package to another bin.
 */
export function layerBudget(maxLayers: number): { big: number; bins: number; unownedBins: number } {
  const slots = Math.max(0, maxLayers - 2); // minus the skeleton and the last (package database) layer
  // Few unowned bins (unowned files are few on a package-built system) and a quarter of the rest
  // for big packages: most packages are small, and the smaller each bin, the cheaper an update.
  const unownedBins = Math.floor(slots / 16);
  const rest = slots - unownedBins;
  const big = Math.floor(rest / 4);
  return { big, bins: rest - big, unownedBins };
}

/** Where a package manager keeps its database: rewritten on every install or upgrade, so kept apart and last. */
export const PACKAGE_DATABASE_DIRS = ["var/lib/dpkg/"];

export function isPackageDatabase(path: string): boolean {
  return PACKAGE_DATABASE_DIRS.some((dir) => path.startsWith(dir));
}

/**
 * The owner of a file dpkg does not list but a package's file implies: Python's byte-code caches
 * (`dir/__pycache__/mod.cpython-313.pyc`) belong with `dir/mod.py`.
 */
export function impliedOwner(path: string, owners: ReadonlyMap<string, string>): string | undefined {
  const cache = /^(.*)\/__pycache__\/([^/]+?)\.[^/.]+(?:\.opt-\d)?\.pyc$/.exec(path);
  if (cache) return owners.get(`${cache[1]}/${cache[2]}.py`);
  return undefined;
}

/** Unowned files are binned by their directory, cut to three levels (`usr/lib/udev`, `var/cache/debconf`). */
export function unownedGroup(path: string): string {
  const parts = path.split("/").slice(0, -1);
  return parts.length === 0 ? "/" : parts.slice(0, 3).join("/");
}

/** A package's bin from a hash of its name: stable whatever else is installed. */
export function binOf(packageName: string, bins: number): number {
  const hash = createHash("sha256").update(packageName).digest();
  return hash.readUInt32BE(0) % bins;
}

/**
 * Packages that get a layer of their own: the biggest ones at or above a fair share of the owned
 * bytes (owned bytes / package slots), at most `big` of them, ties broken by name.
 */
export function pickBigPackages(sizes: ReadonlyMap<string, number>, big: number, slots: number): Set<string> {
  if (big <= 0 || slots <= 0) return new Set();
  let total = 0;
  for (const size of sizes.values()) total += size;
  const threshold = Math.max(1, total / slots);
  const ranked = [...sizes]
    .filter(([, size]) => size >= threshold)
    .sort(([a, sa], [b, sb]) => sb - sa || comparePaths(a, b));
  return new Set(ranked.slice(0, big).map(([name]) => name));
}

function sizeOf(entries: readonly RootfsEntry[]): number {
  const seen = new Set<string>();
  let size = 0;
  for (const entry of entries) {
    if (entry.inode !== undefined) {
      if (seen.has(entry.inode)) continue;
      seen.add(entry.inode);
    }
    size += entry.size;
  }
  return size;
}

/**
 * Splits a root filesystem into at most `maxLayers` layers: every directory in a first skeleton layer
 * (so each later layer finds its parents), then files grouped by the package that owns them — big
 * packages alone, the others in hash bins by name — then files no package owns, in hash bins by
 * directory, and last the package database, which every package change rewrites. Names of one
 * hardlinked inode go together, with the first name's owner. `maxLayers: 1` gives a single layer.
 * Empty layers are left out.
 */
export function planLayers(
  entries: readonly RootfsEntry[],
  owners: ReadonlyMap<string, string>,
  maxLayers: number,
): LayerPlan[] {
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
  if (maxLayers <= 1) {
    const packages = new Set<string>();
    for (const entry of sorted) {
      const owner = owners.get(entry.path);
      if (owner !== undefined) packages.add(owner);
    }
    return [
      {
        kind: "all",
        packages: [...packages].sort(comparePaths),
        paths: sorted.map((e) => e.path),
        size: sizeOf(sorted),
      },
    ];
  }

  const directories = sorted.filter((e) => e.kind === "directory");
  const files = sorted.filter((e) => e.kind !== "directory");

  // Hardlinked names follow the first (sorted) name of their inode.
  const inodeOwner = new Map<string, string | undefined>();
  const ownerOf = (entry: RootfsEntry): string | undefined => {
    if (entry.inode === undefined) return owners.get(entry.path);
    if (!inodeOwner.has(entry.inode)) inodeOwner.set(entry.inode, owners.get(entry.path));
    return inodeOwner.get(entry.inode);
  };

  const byPackage = new Map<string, RootfsEntry[]>();
  const unowned: RootfsEntry[] = [];
  const database: RootfsEntry[] = [];
  for (const entry of files) {
    const owner = ownerOf(entry) ?? impliedOwner(entry.path, owners);
    if (owner === undefined) {
      (isPackageDatabase(entry.path) ? database : unowned).push(entry);
    } else {
      let list = byPackage.get(owner);
      if (!list) byPackage.set(owner, (list = []));
      list.push(entry);
    }
  }

  const { big, bins, unownedBins } = layerBudget(maxLayers);
  const sizes = new Map([...byPackage].map(([name, list]) => [name, sizeOf(list)]));
  const alone = pickBigPackages(sizes, big, big + bins);

  const layers: LayerPlan[] = [
    { kind: "skeleton", packages: [], paths: directories.map((e) => e.path), size: 0 },
  ];
  for (const name of [...alone].sort(comparePaths)) {
    const list = byPackage.get(name)!;
    layers.push({ kind: "package", packages: [name], paths: list.map((e) => e.path), size: sizeOf(list) });
  }
  const binned: { packages: string[]; entries: RootfsEntry[] }[] = Array.from({ length: bins }, () => ({
    packages: [],
    entries: [],
  }));
  for (const name of [...byPackage.keys()].sort(comparePaths)) {
    if (alone.has(name)) continue;
    if (bins === 0) {
      database.push(...byPackage.get(name)!);
      continue;
    }
    const bin = binned[binOf(name, bins)]!;
    bin.packages.push(name);
    bin.entries.push(...byPackage.get(name)!);
  }
  binned.forEach((bin, index) => {
    if (bin.entries.length === 0) return;
    const entriesInOrder = bin.entries.sort((a, b) => comparePaths(a.path, b.path));
    layers.push({
      kind: "bin",
      bin: index,
      packages: bin.packages,
      paths: entriesInOrder.map((e) => e.path),
      size: sizeOf(entriesInOrder),
    });
  });
  const last: RootfsEntry[] = [...database];
  const unownedBinned: RootfsEntry[][] = Array.from({ length: unownedBins }, () => []);
  const inodeGroup = new Map<string, string>();
  for (const entry of unowned) {
    if (unownedBins === 0) {
      last.push(entry);
      continue;
    }
    let group = unownedGroup(entry.path);
    if (entry.inode !== undefined) {
      // Like owned files, hardlinked names follow the first name: tar can only link within one layer.
      group = inodeGroup.get(entry.inode) ?? group;
      inodeGroup.set(entry.inode, group);
    }
    unownedBinned[binOf(group, unownedBins)]!.push(entry);
  }
  unownedBinned.forEach((entries, index) => {
    if (entries.length === 0) return;
    layers.push({
      kind: "unowned",
      bin: index,
      packages: [],
      paths: entries.map((e) => e.path),
      size: sizeOf(entries),
    });
  });
  if (last.length > 0) {
    const entriesInOrder = last.sort((a, b) => comparePaths(a.path, b.path));
    const leftover = bins === 0 ? [...byPackage.keys()].filter((n) => !alone.has(n)).sort(comparePaths) : [];
    layers.push({
      kind: leftover.length > 0 || unownedBins === 0 ? "unowned" : "package-database",
      packages: leftover,
      paths: entriesInOrder.map((e) => e.path),
      size: sizeOf(entriesInOrder),
    });
  }
  return layers;
}
