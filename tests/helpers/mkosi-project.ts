import { execFile } from "node:child_process";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./run-action";

/**
 * Copies the small mkosi test project (tests/fixtures/mkosi/project) to `<scratch>/project` and writes its
 * apt sources from this machine's mirror with examples/sandbox-from-host.sh, the script the example uses:
 * mkosi's default Debian sources include a debug archive the mirror may refuse.
 */
export async function copyTestProject(scratch: string): Promise<string> {
  const project = join(scratch, "project");
  await cp(join(repoRoot, "tests/fixtures/mkosi/project"), project, { recursive: true });
  await promisify(execFile)(join(repoRoot, "examples/sandbox-from-host.sh"), [project, "trixie"]);
  return project;
}
