import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { MkosiOptions } from "../argv";
import { configFilePaths } from "../cache-key";
import { mainImage, type MkosiImage } from "../mkosi-summary";
import { manifestFormatToAdd, projectSetsCacheDirectory, withJsonManifest } from "../project-settings";
import { mkosiSummary } from "../run";
import type { BuildContext } from "./context";
import { ensureWritableDirectory } from "./host";
import type { PreparedBuild } from "./prepare";

/** The build as mkosi resolved it: the options every later mkosi call gets, and the images it will make. */
export interface PlannedBuild extends PreparedBuild {
  mkosiOptions: MkosiOptions;
  /** mkosi's cache directory (incremental images): what the build cache restores and saves. */
  cacheDirectory: string;
  /** Subimages in dependency order, then the main image. */
  images: MkosiImage[];
  main: MkosiImage;
}

/**
 * `mkosi --json summary`: which images the project makes, where their outputs go and where mkosi's cache is.
 * mkosi's cache directory holds the incremental images (the speed); a project's own mkosi.cache/ is used as
 * it is, otherwise one on the big volume. It is given to `summary` as well, since mkosi refuses Incremental=
 * without one.
 */
export async function summaryStep(context: BuildContext, prepared: PreparedBuild): Promise<PlannedBuild> {
  const { options, logger, report, uid } = context;
  const { directory, runner, sudo, workRoot } = prepared;
  const projectCache = join(directory, "mkosi.cache");
  let cacheDirectory = existsSync(projectCache) ? projectCache : join(workRoot, "cache");
  const mkosiOptions: MkosiOptions = {
    directory,
    profiles: options.profiles,
    imageVersion: context.imageVersion,
    ...(options.architecture ? { architecture: options.architecture } : {}),
    environmentNames: options.variables.map((v) => v.name),
    cacheDirectory,
    workspaceDirectory: join(workRoot, "workspace"),
    outputDirectory: prepared.outputDirectory,
    extraArgs: options.args,
  };
  const access = { sudo, uid, logger };
  await ensureWritableDirectory(
    cacheDirectory,
    cacheDirectory === projectCache ? "directory" : "work-directory",
    access,
  );
  let images = await report.timings.time("mkosi summary", async () => {
    const first = await mkosiSummary(runner, mkosiOptions);
    // The project's own CacheDirectory= wins over ours: ask mkosi again without --cache-directory to learn
    // where it resolves (relative to the config file that set it).
    if (!projectSetsCacheDirectory(await readConfigFiles(configFilePaths(first), directory))) return first;
    const again = await mkosiSummary(runner, { ...mkosiOptions, cacheDirectory: undefined });
    const configured = mainImage(again).cacheDirectory;
    if (!configured) return first;
    cacheDirectory = configured;
    mkosiOptions.cacheDirectory = undefined;
    logger.info(`The project sets CacheDirectory=${configured}; using it`);
    await ensureWritableDirectory(cacheDirectory, "directory", access);
    return again;
  });
  if (manifestFormatToAdd(mainImage(images))) {
    mkosiOptions.manifestFormat = "json";
    images = withJsonManifest(images);
  }
  report.images = images;
  for (const image of images) {
    logger.info(
      `Image ${image.name}: Format=${image.format} ${image.distribution} ${image.release} ${image.architecture} → ${image.outputPath}`,
    );
  }
  return { ...prepared, mkosiOptions, cacheDirectory, images, main: mainImage(images) };
}

async function readConfigFiles(paths: readonly string[], directory: string): Promise<string[]> {
  const contents: string[] = [];
  for (const path of paths) {
    if (!path.endsWith(".conf")) continue;
    const text = await readFile(isAbsolute(path) ? path : join(directory, path), "utf8").catch(
      () => undefined,
    );
    if (text !== undefined) contents.push(text);
  }
  return contents;
}
