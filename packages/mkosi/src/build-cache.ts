import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Where a build's cache lives between runs. On GitHub it is the runner's cache service (@actions/cache,
 * implemented in packages/actions); on a workstation, in CI here and in tests, a local directory. Paths are
 * files (the action hands over one archive), restored to where they were saved from.
 */
export interface BuildCache {
  /**
   * Restores the entry of `key`, else the newest whose key starts with a restore key (in order), to `paths`;
   * returns the key restored. The GitHub cache also needs the same paths as at save time (they are part of
   * its cache version), so callers keep them stable across runs.
   */
  restore(key: string, restoreKeys: readonly string[], paths: readonly string[]): Promise<string | undefined>;
  /** Saves `paths` under `key`; an existing entry of that key is kept (keys are immutable, as on GitHub). */
  save(key: string, paths: readonly string[]): Promise<void>;
  /** For the log and the summary, e.g. "GitHub Actions cache" or "local directory /var/cache/…". */
  readonly description: string;
}

/** Directory names are the key with anything but [A-Za-z0-9._-] escaped, so every key maps to one name. */
export function entryName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

interface EntryIndex {
  key: string;
  savedAt: number;
  files: { path: string; stored: string }[];
}

/** Newest-first choice among entries matching the restore keys, as the cache service chooses. */
export function chooseEntry(
  key: string,
  restoreKeys: readonly string[],
  entries: readonly { key: string; savedAt: number }[],
): string | undefined {
  if (entries.some((e) => e.key === key)) return key;
  for (const prefix of restoreKeys) {
    const matches = entries.filter((e) => e.key.startsWith(prefix)).sort((a, b) => b.savedAt - a.savedAt);
    if (matches[0]) return matches[0].key;
  }
  return undefined;
}

export class LocalDirectoryCache implements BuildCache {
  readonly description: string;

  constructor(
    private readonly root: string,
    private readonly now: () => number = Date.now,
  ) {
    this.description = `local directory ${root}`;
  }

  private async entries(): Promise<EntryIndex[]> {
    if (!existsSync(this.root)) return [];
    const found: EntryIndex[] = [];
    for (const name of await readdir(this.root)) {
      const index = join(this.root, name, "index.json");
      if (!existsSync(index)) continue;
      try {
        found.push(JSON.parse(await readFile(index, "utf8")) as EntryIndex);
      } catch {
        // A half-written entry from a killed run: ignored, never restored.
      }
    }
    return found;
  }

  async restore(
    key: string,
    restoreKeys: readonly string[],
    paths: readonly string[],
  ): Promise<string | undefined> {
    const entries = await this.entries();
    const chosen = chooseEntry(key, restoreKeys, entries);
    if (chosen === undefined) return undefined;
    const entry = entries.find((e) => e.key === chosen)!;
    // Files go back by position, not by the path they were saved from: a run's work directory may differ.
    if (entry.files.length !== paths.length) return undefined;
    const dir = join(this.root, entryName(chosen));
    for (const [index, path] of paths.entries()) {
      await mkdir(dirname(path), { recursive: true });
      await copyFile(join(dir, entry.files[index]!.stored), path);
    }
    return chosen;
  }

  async save(key: string, paths: readonly string[]): Promise<void> {
    const dir = join(this.root, entryName(key));
    if (existsSync(join(dir, "index.json"))) return;
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const files = paths.map((path, i) => ({ path, stored: `${i}-${basename(path)}` }));
    for (const file of files) {
      if (!(await stat(file.path)).isFile()) throw new Error(`cache save: ${file.path} is not a file`);
      await copyFile(file.path, join(partial, file.stored));
    }
    const index: EntryIndex = { key, savedAt: this.now(), files };
    await writeFile(join(partial, "index.json"), JSON.stringify(index, null, 2));
    try {
      await rename(partial, dir);
    } catch (error) {
      // Another run saved the same key first: theirs is as good as ours.
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(join(dir, "index.json"))) throw error;
    }
  }
}
