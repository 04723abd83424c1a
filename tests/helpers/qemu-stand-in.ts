import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Puts `script` first on PATH as `qemu-system-x86_64` in a fresh directory, with an empty `disk.raw` beside
 * it and ARGV_LOG pointing at `argv.log` there (the stand-ins record each argv). `restore` puts PATH back,
 * removes ARGV_LOG and the other variables named, and the directory.
 */
export async function installQemuStandIn(
  script: string,
  prefix: string,
): Promise<{ dir: string; restore: (alsoUnset?: readonly string[]) => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, "qemu-system-x86_64"), script);
  await chmod(join(dir, "qemu-system-x86_64"), 0o755);
  await writeFile(join(dir, "disk.raw"), "");
  const savedPath = process.env.PATH;
  process.env.PATH = `${dir}:${savedPath ?? ""}`;
  process.env.ARGV_LOG = join(dir, "argv.log");
  return {
    dir,
    restore: async (alsoUnset = []) => {
      process.env.PATH = savedPath;
      for (const name of ["ARGV_LOG", ...alsoUnset]) delete process.env[name];
      await rm(dir, { recursive: true, force: true });
    },
  };
}
