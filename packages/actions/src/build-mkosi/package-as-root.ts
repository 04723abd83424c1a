import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { consoleLogger, execStreaming, type Logger } from "@frostyard/kit";
import { withSudo, type Packager, type PackageRequestOptions } from "@frostyard/mkosi";
import { packageRootfs, previousFromLayout, type PackageResult } from "@frostyard/rootfs-oci";
import type { WorkerRole } from "../run";

/**
 * mkosi ran as root (sudo), so the rootfs holds files only root may read (/etc/shadow, /root, …). On a
 * runner that starts as a normal user the packaging must run as root too: this bundle starts itself again
 * under sudo with a request file naming what to package, and reads the result back. The environment
 * variable carries only the request's path.
 */
export const PACKAGE_REQUEST_ENV = "FROSTYARD_MKOSI_PACKAGE_REQUEST";

/** Tests set this to take the child-process path without sudo (the machine runs them as root). */
export const PACKAGE_IN_CHILD_ENV = "FROSTYARD_MKOSI_PACKAGE_IN_CHILD";

export type { PackageRequestOptions };

interface PackageRequest {
  /** JSON travels between the processes: the previous image goes as a layout on disk, not as functions. */
  options: Omit<PackageRequestOptions, "previous">;
  previousLayout?: { layout: string; refName?: string };
  resultFile: string;
}

/** Whether packaging runs in a separate (root) process: when mkosi needed sudo, or when a test asks. */
export function packagesInChild(
  sudo: boolean,
  uid: number,
  env: Record<string, string | undefined>,
): boolean {
  return (sudo && uid !== 0) || env[PACKAGE_IN_CHILD_ENV] === "1";
}

export async function packageInChild(
  options: PackageRequestOptions,
  scratchParent: string,
  sudo: boolean,
  logger: Logger,
): Promise<PackageResult> {
  const scratch = await mkdtemp(join(scratchParent, "package-"));
  try {
    const requestFile = join(scratch, "request.json");
    const resultFile = join(scratch, "result.json");
    const { previous, ...rest } = options;
    const previousLayout = previous ? await previous.toLayout(join(scratch, "previous")) : undefined;
    const request: PackageRequest = {
      options: rest,
      ...(previousLayout ? { previousLayout } : {}),
      resultFile,
    };
    await writeFile(requestFile, JSON.stringify(request));
    const bundle = fileURLToPath(import.meta.url);
    const { command, args } = withSudo(process.execPath, [bundle], sudo, [PACKAGE_REQUEST_ENV]);
    logger.info(`Packaging in a separate process${sudo ? " as root (sudo)" : ""}`);
    await execStreaming(command, args, {
      logger,
      env: { [PACKAGE_REQUEST_ENV]: requestFile },
      extendEnv: true,
      echoCommand: false,
      onStderrLine: (line) => logger.info(line),
    });
    return JSON.parse(await readFile(resultFile, "utf8")) as PackageResult;
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

/** The child's side: package what the request names, write the result, exit non-zero on failure. */
export async function servePackageRequest(requestFile: string): Promise<void> {
  try {
    const request = JSON.parse(await readFile(requestFile, "utf8")) as PackageRequest;
    const { previousLayout } = request;
    const previous = previousLayout
      ? await previousFromLayout(previousLayout.layout, previousLayout.refName)
      : undefined;
    const result = await packageRootfs({
      ...request.options,
      ...(previous ? { previous } : {}),
      logger: consoleLogger,
    });
    await writeFile(request.resultFile, JSON.stringify(result), { mode: 0o644 });
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}

/** The bundle's worker role: the child started by packageInChild. */
export const packageWorker: WorkerRole = { env: PACKAGE_REQUEST_ENV, serve: servePackageRequest };

/** buildImage's packager for an action bundle: as root in a child process when mkosi ran under sudo. */
export function rootAwarePackager(logger: Logger): Packager {
  return (options, { sudo, scratch }) =>
    packagesInChild(sudo, process.getuid?.() ?? 0, process.env)
      ? packageInChild(options, scratch, sudo, logger)
      : packageRootfs({ ...options, logger });
}
