import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** action.yml, or action.yaml as the runner also accepts. */
export function actionFile(dir: string): string | undefined {
  for (const name of ["action.yml", "action.yaml"]) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Finds the action directory for the CLI's <action>: a directory holding action.yml (relative to `cwd`),
 * a name under the repository's actions/, or `.` for the repository's root action.
 */
export function resolveActionDir(spec: string, cwd: string, repoRoot: string | undefined): string {
  const direct = resolve(cwd, spec);
  if (actionFile(direct)) return direct;
  if (repoRoot) {
    if (spec === ".") {
      if (actionFile(repoRoot)) return repoRoot;
    } else if (/^[\w.-]+$/.test(spec)) {
      const named = join(repoRoot, "actions", spec);
      if (actionFile(named)) return named;
    }
  }
  const known =
    repoRoot && existsSync(join(repoRoot, "actions"))
      ? readdirSync(join(repoRoot, "actions")).filter((name) => actionFile(join(repoRoot, "actions", name)))
      : [];
  throw new Error(
    `no action '${spec}': expected a directory with action.yml, '.' for the root action, or one of: ` +
      (known.length > 0 ? known.join(", ") : "(none: actions/ holds no action.yml)"),
  );
}
