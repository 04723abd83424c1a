import { buildMkosiDisk, MkosiDiskProjectError, type DiskArtifact } from "@frostyard/disk";
import { InputError, type InputGetter, type Logger } from "@frostyard/kit";
import { defaultImageVersion, newBuildReport, type BuildReport } from "@frostyard/mkosi";
import { keepCacheStateForPost } from "../build-mkosi/cache-post";
import { selectBuildCache } from "../build-mkosi/cache-store";
import { asInputError } from "../domain-errors";
import { parseSharedBuildInputs, type SharedBuildOptions } from "../build-sysext/inputs";

/**
 * The mkosi inputs disk-image shares with build-mkosi and build-sysext, parsed by the same parser. This
 * action's output-directory is where the disks go, so mkosi's own outputs stay in its work directory.
 */
export function parseMkosiInputs(get: InputGetter): SharedBuildOptions {
  return parseSharedBuildInputs((name) => (name === "output-directory" ? "" : get(name)));
}

/** Values of secret-environment, for setSecret before anything is logged. */
export function mkosiSecretValues(build: SharedBuildOptions | undefined): string[] {
  return (build?.variables ?? []).filter((v) => v.secret && v.value.length >= 4).map((v) => v.value);
}

/**
 * builder: mkosi. The project is built on the shared build path (its cache saved by the post step) and its
 * raw disk converted into each type; `report` keeps how far the build got for the summary.
 */
export async function buildDiskWithMkosi(options: {
  build: SharedBuildOptions;
  types: readonly string[];
  outputDirectory: string;
  name: string;
  logger: Logger;
}): Promise<{ artifacts: DiskArtifact[]; report: BuildReport }> {
  const imageVersion = options.build.imageVersion ?? defaultImageVersion(new Date());
  const report = newBuildReport(options.build, imageVersion);
  try {
    const { artifacts } = await buildMkosiDisk({
      build: { ...options.build, imageVersion, workspace: process.env.GITHUB_WORKSPACE || process.cwd() },
      deps: {
        logger: options.logger,
        cache: selectBuildCache(),
        report,
        onCacheState: keepCacheStateForPost,
      },
      types: options.types,
      outputDirectory: options.outputDirectory,
      name: options.name,
    });
    return { artifacts, report };
  } catch (error) {
    if (error instanceof MkosiDiskProjectError)
      throw new InputError("directory", error.message, "an mkosi project whose image sets Format=disk");
    throw asInputError(error);
  }
}
