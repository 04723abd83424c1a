import { dirname, resolve } from "node:path";

/** The repository a workflow file belongs to: the directory above `.github/workflows/`. */
export function workflowRoot(file: string): string {
  const dir = dirname(resolve(file));
  return /[/\\]\.github[/\\]workflows$/.test(dir) ? resolve(dir, "../..") : dir;
}
