import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "@frostyard/kit";

/** A directory entry of `mkosi.profiles/`: `NAME/` or `NAME.conf` defines profile NAME. */
export function profileFromEntry(name: string, isDirectory: boolean): string | undefined {
  if (isDirectory) return name;
  return name.endsWith(".conf") && name.length > ".conf".length ? name.slice(0, -".conf".length) : undefined;
}

/** Profile names a config file matches on: `Profiles=` lines inside `[Match]`/`[TriggerMatch]` sections. */
export function profilesMatchedIn(configText: string): string[] {
  const found: string[] = [];
  let inMatch = false;
  for (const raw of configText.split("\n")) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      inMatch = section[1] === "Match" || section[1] === "TriggerMatch";
      continue;
    }
    if (!inMatch) continue;
    const setting = /^Profiles?\s*=\s*(.*)$/.exec(line);
    if (!setting) continue;
    for (const value of setting[1]!.split(/[\s,]+/)) {
      const name = value.replace(/^!/, "");
      if (name !== "") found.push(name);
    }
  }
  return found;
}

/** Refuses profiles the project defines nowhere: mkosi itself accepts any name and builds without it. */
export function checkProfiles(
  requested: readonly string[],
  known: ReadonlySet<string>,
  input = "profiles",
): void {
  const unknown = requested.filter((profile) => !known.has(profile));
  if (unknown.length === 0) return;
  const accepted =
    known.size > 0
      ? `one of the project's profiles: ${[...known].sort().join(", ")}`
      : "no profiles: the project defines none (mkosi.profiles/ or [Match] Profiles=)";
  throw new InputError(input, `unknown profile(s) ${unknown.map((p) => `'${p}'`).join(", ")}`, accepted);
}

const SKIP = new Set([
  "mkosi.cache",
  "mkosi.output",
  "mkosi.builddir",
  "mkosi.tools",
  "mkosi.extra",
  "mkosi.skeleton",
  "mkosi.sandbox",
  ".git",
  "node_modules",
]);

/**
 * Profiles a project defines: entries of every `mkosi.profiles/` (top level and in `mkosi.images/*`), and
 * names `[Match] Profiles=` refers to in any `*.conf` below the project (outputs and caches skipped).
 */
export async function findProjectProfiles(projectDirectory: string): Promise<Set<string>> {
  const known = new Set<string>();
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (SKIP.has(entry.name)) continue;
        if (entry.name === "mkosi.profiles") {
          for (const profile of await readdir(path, { withFileTypes: true })) {
            const name = profileFromEntry(profile.name, profile.isDirectory());
            if (name) known.add(name);
          }
        }
        await walk(path, depth + 1);
      } else if (entry.isFile() && entry.name.endsWith(".conf")) {
        for (const name of profilesMatchedIn(await readFile(path, "utf8"))) known.add(name);
      }
    }
  };
  await walk(projectDirectory, 0);
  return known;
}
