import { readFile, writeFile } from "node:fs/promises";

/**
 * Writes a benchmark's generated markdown to its doc, keeping the doc's hand-written "## Notes" section
 * (everything from that heading on), so a re-run refreshes the figures without losing what people wrote.
 */
export async function writeBenchDoc(file: string, markdown: string): Promise<void> {
  let kept = "";
  try {
    const existing = await readFile(file, "utf8");
    const index = existing.indexOf("\n## Notes");
    if (index >= 0) kept = existing.slice(index);
  } catch {
    // first run: nothing written by hand yet
  }
  await writeFile(file, markdown + kept);
}
