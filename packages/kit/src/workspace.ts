import { isAbsolute, relative, resolve, sep } from "node:path";

/**
 * `path` (relative to `workspace`, or absolute) as an absolute path, or undefined when it lands outside
 * `workspace` (`../../etc`, `/etc`, `a/../../x`). An input that names files is meant to stay in the
 * checkout: outside it, an action would lint or rewrite the runner's own files. Pure: the paths are
 * compared as written, symlinks are not followed.
 */
export function pathInWorkspace(workspace: string, path: string): string | undefined {
  const root = resolve(workspace);
  const target = resolve(root, path);
  const rel = relative(root, target);
  const outside = rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  return outside ? undefined : target;
}
