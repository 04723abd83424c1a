import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DefaultArtifactClient } from "@actions/artifact";
import type { Logger } from "@frostyard/kit";

/** Whether the runner offers the artifact service (it does on GitHub, not on a workstation). */
export function artifactServiceMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = ["ACTIONS_RESULTS_URL", "ACTIONS_RUNTIME_TOKEN"].filter((name) => !env[name]);
  return missing.length > 0 ? `no artifact service on this runner (${missing.join(", ")} unset)` : undefined;
}

/** Every file under `directory` (symlinks as the files they name), for one artifact. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Uploads the published set as one workflow artifact, or says why it did not. */
export async function uploadSet(
  directory: string,
  name: string,
  logger: Logger,
): Promise<{ id: number; name: string; size: number } | { skipped: string }> {
  const missing = artifactServiceMissing();
  if (missing) {
    const say = logger.notice ? logger.notice.bind(logger) : logger.info.bind(logger);
    say(`Artifact upload skipped: ${missing}`);
    return { skipped: missing };
  }
  const result = await new DefaultArtifactClient().uploadArtifact(
    name,
    await filesUnder(directory),
    directory,
  );
  return { id: result.id ?? 0, name, size: result.size ?? 0 };
}
