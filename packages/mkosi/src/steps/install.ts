import { InputError } from "@frostyard/kit";
import { installMkosi } from "../install";
import { mkosiVersion } from "../run";
import { assertSupportedVersion } from "../version";
import type { BuildContext } from "./context";
import { onPath } from "./host";

/** Install: a pinned, checksummed source tree through the tool cache, or the mkosi on PATH; its version checked. */
export async function installStep(context: BuildContext): Promise<{ command: string }> {
  const mkosi = await locateMkosi(context);
  await checkMkosiVersion(context, mkosi.command);
  return mkosi;
}

/** The timed half of install: where mkosi is (installed first when pinned). */
export async function locateMkosi(context: BuildContext): Promise<{ command: string }> {
  const { options, logger, env, report } = context;
  const command = await report.timings.time("install mkosi", async () => {
    if (options.mkosi.kind === "system") {
      const found = onPath("mkosi", env);
      if (!found) {
        throw new InputError(
          "mkosi-ref",
          "is 'system' but mkosi is not on PATH",
          "a 40-hex systemd/mkosi commit with mkosi-sha256, or an mkosi on PATH",
        );
      }
      return found;
    }
    const toolCache = context.toolCache ? { toolCache: context.toolCache } : {};
    return (await installMkosi(options.mkosi, { logger, ...toolCache })).path;
  });
  return { command };
}

/** `mkosi --version`, into the report; refuses a version we do not support. */
export async function checkMkosiVersion(context: BuildContext, command: string): Promise<void> {
  const { logger, env, report } = context;
  const version = await mkosiVersion({ command, sudo: false, variables: [], extraEnv: {}, env, logger });
  report.mkosiVersion = version.text;
  logger.info(`mkosi ${version.text} (${command})`);
  assertSupportedVersion(version, `mkosi at ${command}`);
}

/**
 * Runs `work` while `version` (the version check) is still going, then settles both: a refused version wins
 * over whatever `work` did, since an unsupported mkosi explains any later failure.
 */
export async function afterVersionCheck<T>(version: Promise<void>, work: () => Promise<T>): Promise<T> {
  const [checked, done] = await Promise.allSettled([version, work()]);
  if (checked.status === "rejected") throw checked.reason;
  if (done.status === "rejected") throw done.reason;
  return done.value;
}
