import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { resolveSourceDateEpoch } from "../project-settings";
import type { MkosiRunner } from "../run";
import { useSudo } from "../sudo";
import { candidatePaths, chooseWorkVolume, freeBytes, probeVolumes } from "../volumes";
import type { BuildContext } from "./context";
import { ensureWritableDirectory, git, onPath } from "./host";

/** What the prepare step settled: how mkosi runs, when it says the files were made, and where it works. */
export interface PreparedBuild {
  /** The project directory, absolute. */
  directory: string;
  sudo: boolean;
  /** SOURCE_DATE_EPOCH for mkosi and for packaging. */
  epoch: number;
  /** Holds mkosi's workspace, TMPDIR, cache (unless the project has its own) and, by default, the outputs. */
  workRoot: string;
  outputDirectory: string;
  runner: MkosiRunner;
}

/** Prepare: sudo or not, SOURCE_DATE_EPOCH, and the work directories on the volume with the most free space. */
export async function prepareStep(
  context: BuildContext,
  directory: string,
  mkosi: { command: string },
): Promise<PreparedBuild> {
  const { options, logger, env, report, uid } = context;
  const sudo = useSudo(options.sudo, uid, onPath("sudo", env) !== undefined);
  if (sudo) logger.info("mkosi runs with sudo");
  const sourceDate = resolveSourceDateEpoch({
    ...(options.sourceDateEpoch !== undefined ? { given: options.sourceDateEpoch } : {}),
    ...(env.SOURCE_DATE_EPOCH !== undefined ? { fromEnvironment: env.SOURCE_DATE_EPOCH } : {}),
    ...(options.sourceDateEpoch === undefined
      ? { commitTime: git(directory, env, "log", "-1", "--format=%ct") ?? "" }
      : {}),
    now: context.now,
  });
  for (const warning of sourceDate.warnings) logger.warning(warning);

  const access = { sudo, uid, logger };
  const work = await report.timings.time("prepare", async () => {
    let root = options.workDirectory ? resolve(options.workDirectory) : undefined;
    if (!root) {
      const volume = chooseWorkVolume(await probeVolumes(candidatePaths(env, env.TMPDIR || tmpdir())), sudo);
      root = join(volume.path, "frostyard-mkosi");
    }
    await ensureWritableDirectory(root, "work-directory", access);
    const outputDirectory = options.outputDirectory ? resolve(options.outputDirectory) : join(root, "output");
    await ensureWritableDirectory(outputDirectory, "output-directory", access);
    for (const sub of ["workspace", "tmp"])
      await ensureWritableDirectory(join(root, sub), "work-directory", access);
    return { root, outputDirectory };
  });
  report.workVolume = work.root;
  report.freeBefore = await freeBytes(work.root);
  logger.info(
    `Working in ${work.root} (${Math.round(report.freeBefore / 2 ** 30)} GiB free), outputs in ${work.outputDirectory}`,
  );
  return {
    directory,
    sudo,
    epoch: sourceDate.epoch,
    workRoot: work.root,
    outputDirectory: work.outputDirectory,
    runner: {
      command: mkosi.command,
      sudo,
      variables: options.variables,
      env,
      extraEnv: { SOURCE_DATE_EPOCH: String(sourceDate.epoch), TMPDIR: join(work.root, "tmp") },
      logger,
    },
  };
}
