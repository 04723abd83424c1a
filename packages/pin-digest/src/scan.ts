import { glob, readFile, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { pathInWorkspace } from "@frostyard/kit";
import { extract } from "./extract";
import type { Extraction } from "./types";

/**
 * Where references live unless the `paths` input says otherwise. `**` skips dot-directories, so
 * `.github/` is named explicitly.
 */
export const DEFAULT_PATHS: readonly string[] = [
  "**/{Containerfile,Dockerfile}",
  "**/{Containerfile,Dockerfile}.*",
  "**/*.{Containerfile,Dockerfile,containerfile,dockerfile}",
  ".github/workflows/*.{yml,yaml}",
  "**/action.{yml,yaml}",
  ".github/**/action.{yml,yaml}",
  "**/{compose,docker-compose}*.{yml,yaml}",
];

const SKIPPED_DIRS = /(^|[/\\])(node_modules|\.git)$/;

/**
 * Globs matched a file outside the root (`../x`, `/etc/x`, or `..` after a `**`): pin-digest rewrites
 * what it finds, so it never goes there.
 */
export class OutsideRootError extends Error {
  constructor(
    readonly file: string,
    readonly root: string,
    readonly globs: readonly string[],
  ) {
    super(`'${file}' is outside ${root}, matched by ${globs.map((g) => `'${g}'`).join(", ")}`);
    this.name = "OutsideRootError";
  }
}

/** Files under `root` matching any glob (relative, forward slashes, sorted, each once); none outside it. */
export async function findFiles(root: string, globs: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const exclude = (p: string | { name: string }) => SKIPPED_DIRS.test(typeof p === "string" ? p : p.name);
  for await (const p of glob([...globs], { cwd: root, exclude })) {
    // Matched paths are checked, not the globs: `**/../x` resolves inside the root as a path, yet matches ../x.
    if (pathInWorkspace(root, p) === undefined) throw new OutsideRootError(p, root, globs);
    const rel = p.split(sep).join("/");
    if (found.has(rel)) continue;
    const info = await stat(join(root, p)).catch(() => undefined);
    if (info?.isFile()) found.add(rel);
  }
  return [...found].sort();
}

/** A scanned file: its text as read (rewrites start from exactly this) and what was found in it. */
export interface ScannedFile extends Extraction {
  file: string;
  text: string;
}

/** Reads and extracts every file; a file that cannot be read is reported, the others still scanned. */
export async function scan(root: string, globs: readonly string[] = DEFAULT_PATHS): Promise<ScannedFile[]> {
  const files = await findFiles(root, globs);
  return Promise.all(
    files.map(async (file): Promise<ScannedFile> => {
      try {
        const text = await readFile(join(root, file), "utf8");
        return { file, text, ...extract(file, text) };
      } catch (e) {
        return {
          file,
          text: "",
          refs: [],
          problems: [{ file, message: `cannot read: ${(e as Error).message}` }],
        };
      }
    }),
  );
}
