import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** sha256 of a file, streamed: disks are gigabytes. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A SHA256SUMS file as sha256sum writes it (two spaces, text mode), sorted by name for stable diffs. */
export function renderSha256Sums(entries: readonly { name: string; sha256: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.name}\n`)
    .join("");
}

/** The one-file form next to each disk (`disk.qcow2.sha256`), which `sha256sum -c` reads too. */
export function renderSha256File(name: string, sha256: string): string {
  return `${sha256}  ${name}\n`;
}
