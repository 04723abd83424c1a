import { parseSysextFileName } from "./naming";

export interface SumEntry {
  file: string;
  sha256: string;
}

/** `SHA256SUMS` as sha256sum writes it and systemd-sysupdate reads it: `<hex>  <file>`, sorted by name. */
export function renderSha256Sums(entries: readonly SumEntry[]): string {
  for (const e of entries) {
    if (!/^[0-9a-f]{64}$/.test(e.sha256))
      throw new Error(`SHA256SUMS: '${e.sha256}' for ${e.file} is not a sha256 in hex`);
    if (/[\n/]/.test(e.file) || e.file === "")
      throw new Error(`SHA256SUMS: '${e.file}' is not a plain file name`);
  }
  return [...entries]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.file}\n`)
    .join("");
}

/** Reads a SHA256SUMS (either separator: `  ` text or ` *` binary mode); lines that are not sums are skipped. */
export function parseSha256Sums(text: string): SumEntry[] {
  const entries: SumEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trimEnd());
    if (match) entries.push({ sha256: match[1]!.toLowerCase(), file: match[2]! });
  }
  return entries;
}

export interface SumsChange {
  added: { name: string; version: string }[];
  removed: { name: string; version: string }[];
  updated: { name: string; from: string; to: string }[];
  /** The same file name with other bytes: a rebuild that kept its version (a warning in the summary). */
  rebuilt: string[];
}

function versionsByName(entries: readonly SumEntry[]): Map<string, SumEntry & { version: string }> {
  const out = new Map<string, SumEntry & { version: string }>();
  for (const e of entries) {
    const parsed = parseSysextFileName(e.file);
    if (!parsed || parsed.suffix !== ".raw") continue;
    const key = `${parsed.name}_${parsed.osVersion}_${parsed.architecture}`;
    const seen = out.get(key);
    // Several versions of one extension in a SHA256SUMS: the last one listed stands for it.
    if (!seen || seen.file !== e.file) out.set(key, { ...e, version: parsed.version });
  }
  return out;
}

/** What changed between a previous SHA256SUMS and this one, per extension (name, os version, arch). */
export function diffSums(previous: readonly SumEntry[], current: readonly SumEntry[]): SumsChange {
  const before = versionsByName(previous);
  const after = versionsByName(current);
  const change: SumsChange = { added: [], removed: [], updated: [], rebuilt: [] };
  const nameOf = (key: string) => key.split("_")[0]!;
  for (const [key, now] of after) {
    const then = before.get(key);
    if (!then) change.added.push({ name: nameOf(key), version: now.version });
    else if (then.version !== now.version)
      change.updated.push({ name: nameOf(key), from: then.version, to: now.version });
    else if (then.sha256 !== now.sha256) change.rebuilt.push(now.file);
  }
  for (const [key, then] of before) {
    if (!after.has(key)) change.removed.push({ name: nameOf(key), version: then.version });
  }
  return change;
}
