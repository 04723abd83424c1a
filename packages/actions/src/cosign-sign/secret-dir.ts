import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readState, saveState, STATE } from "..";

/**
 * A private directory in RUNNER_TEMP for anything secret a tool needs as a file (the cosign CLI's registry
 * auth file). Its path goes to the post step before anything is written, so the post step (`post-if:
 * always()`) removes it even when the main step fails or is killed half way.
 */
export async function makeSecretDir(): Promise<string> {
  const base = process.env.RUNNER_TEMP || tmpdir();
  const dir = await mkdtemp(join(base, "cosign-sign-"));
  saveState(STATE.secretDir, dir);
  return dir;
}

/** The post step: removes the directory the main step made, if any. */
export async function removeSecretDir(log: (message: string) => void): Promise<void> {
  const dir = readState(STATE.secretDir);
  if (!dir) return;
  await rm(dir, { recursive: true, force: true });
  log(`removed ${dir}`);
}
