import { randomBytes } from "node:crypto";
import { chmod, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces a file's content all at once: writes a temporary file in the same directory (same file
 * system, so rename is atomic) with the original's mode, then renames it over the original. A reader
 * sees the old or the new content, never a mix; a failure leaves the original untouched.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const mode = (await stat(path).catch(() => undefined))?.mode ?? 0o644;
  const temp = join(dirname(path), `.${basename(path)}.pin-digest-${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(temp, content, { flag: "wx" });
    await chmod(temp, mode & 0o7777); // writeFile's mode is filtered by the umask
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
}
