import { readFile } from "node:fs/promises";
import { InputError } from "@frostyard/kit";
import { parseSha256Sums, type SumEntry } from "@frostyard/sysext";

/** The previous-sha256sums input: a path or an http(s) URL of a SHA256SUMS, read once. */
export async function readPreviousSums(source: string): Promise<SumEntry[]> {
  const accepted = "a path or an http(s) URL of a SHA256SUMS file";
  let text: string;
  try {
    if (/^https?:\/\//.test(source)) {
      const response = await fetch(source, { signal: AbortSignal.timeout(30_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } else {
      text = await readFile(source, "utf8");
    }
  } catch (error) {
    throw new InputError(
      "previous-sha256sums",
      `could not read '${source}': ${(error as Error).message}`,
      accepted,
    );
  }
  const entries = parseSha256Sums(text);
  if (entries.length === 0 && text.trim() !== "")
    throw new InputError("previous-sha256sums", `'${source}' holds no '<sha256>  <file>' lines`, accepted);
  return entries;
}
