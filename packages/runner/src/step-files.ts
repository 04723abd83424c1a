import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Empty file-command files for one step in `dir`, as the hosted runner makes them fresh per step. */
export async function freshFileCommandFiles(dir: string) {
  await mkdir(dir, { recursive: true });
  const files = {
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STATE: join(dir, "state"),
    GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    GITHUB_ENV: join(dir, "env"),
    GITHUB_PATH: join(dir, "path"),
  };
  await Promise.all(Object.values(files).map((file) => writeFile(file, "")));
  return files;
}

/** A file-command file's text; a step may have deleted it, which reads as empty. */
export async function readIfPresent(file: string): Promise<string> {
  return existsSync(file) ? readFile(file, "utf8") : "";
}
