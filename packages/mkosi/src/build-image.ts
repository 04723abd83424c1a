import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { access, constants, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { execStreaming, InputError, Timings, type Logger } from "@frostyard/kit";
import {
  CredentialStore,
  formatReference,
  pushLayout,
  RegistryClient,
  repositoryName,
  type ImageReference,
} from "@frostyard/oci";
import { packageRootfs, type PackageOptions, type PackageResult } from "@frostyard/rootfs-oci";
import type { BuildVariable } from "./environment";
import type { BuildCache } from "./build-cache";
import { cacheOutcome, type BuildReport } from "./build-report";
import { packDirectory, unpackDirectory } from "./cache-archive";
import { availableMemory, mountCacheTmpfs, readMeminfo, tmpfsSize, unmountCacheTmpfs } from "./cache-tmpfs";
import { cacheKeys, cachePeriod, configFilePaths, hashConfigFiles, type CacheRefresh } from "./cache-key";
import { defaultImageVersion } from "./image-version";
import { installMkosi, type MkosiSource } from "./install";
import {
  manifestFormatToAdd,
  projectSetsCacheDirectory,
  resolveSourceDateEpoch,
  withJsonManifest,
} from "./project-settings";
import {
  assertNoInputsIgnoredByOciFormat,
  floatingTags,
  standardImageMetadata,
  versionTagAction,
} from "./publish-rules";
import { manifestLayers, nameMkosiLayout } from "./oci-output";
import { checkProfiles, findProjectProfiles } from "./profiles";
import { mkosiBuild, mkosiSummary, mkosiVersion, type MkosiRunner } from "./run";
import { planRunnerPreparation, prepStepArgv, pathsOfInterest, USERNS_SYSCTLS } from "./runner-prep";
import { useSudo, withSudo, type SudoMode } from "./sudo";
import { isDirectoryFormat, mainImage, type MkosiImage } from "./summary";
import type { MkosiOptions } from "./argv";
import { assertSupportedVersion } from "./version";
import { candidatePaths, chooseWorkVolume, freeBytes, probeVolumes } from "./volumes";

/** What to build and where it goes; the fields of build-mkosi's inputs, parsed. */
export interface BuildImageOptions {
  /** The mkosi project, relative to `workspace`. */
  directory: string;
  /** Where relative paths start; default the current directory. */
  workspace?: string;
  profiles: string[];
  /** Undefined: UTC %Y%m%d%H%M%S now. */
  imageVersion?: string;
  variables: BuildVariable[];
  args: string[];
  sudo: SudoMode;
  mkosi: MkosiSource;
  cache: boolean;
  /** How often the cache starts cold so package updates land (the period is in the key); default weekly. */
  cacheRefresh?: CacheRefresh;
  workDirectory?: string;
  outputDirectory?: string;
  /** Where the image is pushed; it also names the image (its title label) when packaged. */
  image?: ImageReference;
  /** Package the rootfs as an OCI layout even without `image` (the pipeline pushes it itself). */
  package?: boolean;
  tags: string[];
  push: boolean;
  labels: Map<string, string>;
  annotations: Map<string, string>;
  bootable: boolean;
  maxLayers: number;
  compression: "gzip" | "zstd";
  ociLayout?: string;
  sourceDateEpoch?: number;
  registryUsername?: string;
  registryPassword?: string;
  /** Push the version tag even when the registry holds another image under it (default: refuse). */
  overwriteVersion?: boolean;
  /** Of bootable, max-layers, compression: those the user gave (a Format=oci build refuses them). */
  explicitPackagingInputs?: readonly string[];
}

export type PackageRequestOptions = Omit<PackageOptions, "logger">;

/** Where the post step finds mkosi's cache to save; the caller keeps it between the main and post steps. */
export interface BuildCacheState {
  key: string;
  cacheDirectory: string;
  archive: string;
  sudo: boolean;
  /** The key restored, when one was. */
  restored?: string;
  /** The cache directory is a tmpfs the main step mounted (exact hits only); the post step unmounts it. */
  tmpfs?: boolean;
}

export interface BuildImageDeps {
  logger: Logger;
  cache: BuildCache;
  /** Called before the cache is restored, and again once it was: what the post step needs. */
  onCacheState?: (state: BuildCacheState) => void;
  /**
   * Packages a Format=directory rootfs; default in this process. An action bundle passes one that runs as
   * root in a child process when mkosi ran under sudo (the rootfs then holds root-only files).
   */
  packager?: (
    options: PackageRequestOptions,
    context: { sudo: boolean; scratch: string },
  ) => Promise<PackageResult>;
  /** Filled in as the build goes, so a caller still has it when the build throws. */
  report?: BuildReport;
  /** The result so far: after the build, after packaging and after the push (a later failure keeps these). */
  onProgress?: (result: BuildImageResult) => void;
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

export interface BuildImageResult {
  report: BuildReport;
  imageVersion: string;
  /** The main image's directory tree; "" when its format is not a directory. */
  rootfs: string;
  mkosiManifest: string;
  main: MkosiImage;
  /** Set when the image was packaged (or mkosi made the layout itself). */
  ociLayout?: string;
  /** The layout's manifest, tagged by the image version in its index (ref name). */
  digest?: string;
  layers: { digest: string; size: number; packages: string[] }[];
  /** The image version and the extra tags. */
  tags: string[];
  /** `<registry>/<repository>@<digest>` when pushed. */
  pushedImage?: string;
}

function onPath(name: string, env: Record<string, string | undefined>): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function git(directory: string, ...args: string[]): string | undefined {
  const result = spawnSync("git", ["-C", directory, ...args], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function ensureWritableDirectory(
  path: string,
  input: string,
  sudo: boolean,
  logger: Logger,
): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    await access(path, constants.W_OK);
    return;
  } catch (error) {
    if (sudo) {
      const make = withSudo("mkdir", ["-p", path], true, []);
      const uid = process.getuid?.() ?? 0;
      const chown = withSudo("chown", [`${uid}:${process.getgid?.() ?? 0}`, path], true, []);
      const made = await execStreaming(make.command, make.args, { logger, ignoreReturnCode: true });
      if (made.exitCode === 0) {
        await execStreaming(chown.command, chown.args, { logger });
        return;
      }
    }
    throw new InputError(
      input,
      `cannot create or write '${path}' (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      "a directory this job may create and write",
    );
  }
}

/** `oci-layout` before an hour of building: a directory we may write that is empty or already a layout. */
async function checkLayoutPath(path: string, sudo: boolean, logger: Logger): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  const accepted = "a new or empty directory, or an existing OCI image layout, that this job may write";
  if (info && !info.isDirectory())
    throw new InputError("oci-layout", `'${path}' exists and is not a directory`, accepted);
  if (info) {
    const entries: string[] = await readdir(path).catch(() => []);
    if (entries.length > 0 && !entries.includes("oci-layout"))
      throw new InputError(
        "oci-layout",
        `'${path}' holds other files (${entries.slice(0, 3).join(", ")}) and no oci-layout file`,
        accepted,
      );
  }
  await ensureWritableDirectory(path, "oci-layout", sudo, logger);
}

/** Bytes of a file, or of every regular file below a directory (hardlinks once), without following symlinks. */
async function diskUsage(path: string): Promise<number | undefined> {
  const seen = new Set<string>();
  const walk = async (p: string): Promise<number> => {
    const info = await stat(p).catch(() => undefined);
    if (!info) return 0;
    if (info.isFile()) {
      const id = `${info.dev}:${info.ino}`;
      if (seen.has(id)) return 0;
      seen.add(id);
      return info.size;
    }
    if (!info.isDirectory()) return 0;
    let sum = 0;
    for (const entry of await readdir(p, { withFileTypes: true }).catch(() => [])) {
      if (entry.isSymbolicLink()) continue;
      sum += await walk(join(p, entry.name));
    }
    return sum;
  };
  if (!existsSync(path)) return undefined;
  return walk(path);
}

async function readSysctl(key: string): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/sys/${key.replace(/\./g, "/")}`, "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function osId(): Promise<string | undefined> {
  const text = await readFile("/etc/os-release", "utf8").catch(() => "");
  return /^ID="?([^"\n]+)"?$/m.exec(text)?.[1];
}

async function prepareRunner(
  images: readonly MkosiImage[],
  sudo: boolean,
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<string[]> {
  const sysctls: Record<string, string | undefined> = {};
  for (const key of USERNS_SYSCTLS) sysctls[key] = await readSysctl(key);
  const steps = planRunnerPreparation({
    githubHosted: env.RUNNER_ENVIRONMENT === "github-hosted",
    osId: await osId(),
    sysctls,
    existingPaths: new Set(pathsOfInterest().filter((p) => existsSync(p))),
    distributions: images.map((i) => i.distribution),
    formats: images.map((i) => i.format),
    hasSystemdRepart: onPath("systemd-repart", env) !== undefined,
  });
  const done: string[] = [];
  for (const step of steps) {
    const what =
      step.kind === "sysctl" ? `${step.key}=${step.value}` : `apt-get install ${step.packages.join(" ")}`;
    logger.info(`Preparing the runner: ${what} (${step.reason})`);
    for (const { command, args } of prepStepArgv(step)) {
      const wrapped = withSudo(command, args, sudo, []);
      await execStreaming(wrapped.command, wrapped.args, { logger });
    }
    done.push(what);
  }
  if (steps.length === 0) logger.info("Runner preparation: nothing to change on this machine");
  return done;
}

/** The project directory, resolved and checked: it exists, holds mkosi.conf(.d) and knows the profiles. */
export async function checkProject(
  options: Pick<BuildImageOptions, "directory" | "workspace" | "profiles">,
): Promise<string> {
  const directory = resolve(options.workspace ?? process.cwd(), options.directory);
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(
      "directory",
      `'${options.directory}' (${directory}) is not a directory`,
      "the path of an mkosi project, relative to the workspace",
    );
  }
  if (!existsSync(join(directory, "mkosi.conf")) && !existsSync(join(directory, "mkosi.conf.d"))) {
    throw new InputError(
      "directory",
      `'${options.directory}' has no mkosi.conf or mkosi.conf.d`,
      "the directory holding the project's mkosi.conf",
    );
  }
  checkProfiles(options.profiles, await findProjectProfiles(directory));
  return directory;
}

/** An empty report for a build of `imageVersion`, to hand to buildImage so a failure still reports. */
export function newBuildReport(
  options: Pick<BuildImageOptions, "profiles" | "cache">,
  imageVersion: string,
): BuildReport {
  return {
    mkosiVersion: "?",
    profiles: options.profiles,
    imageVersion,
    images: [],
    sizes: new Map(),
    cache: { enabled: options.cache },
    timings: new Timings(),
  };
}

/**
 * One mkosi build as build-mkosi runs it: install mkosi, choose the work volume, `mkosi summary`, prepare
 * the runner, restore the build cache, `mkosi build`, package the main image as an OCI layout (when `image`
 * or `package` asks) and push it (when `push`). Each stage is timed in the report; the post step saves
 * the cache with `saveBuildCache`.
 */
export async function buildImage(
  options: BuildImageOptions,
  deps: BuildImageDeps,
): Promise<BuildImageResult> {
  const env = deps.env ?? process.env;
  const now = deps.now?.() ?? new Date();
  const imageVersion = options.imageVersion ?? defaultImageVersion(now);
  const report = deps.report ?? newBuildReport(options, imageVersion);
  try {
    return await build(options, deps, report, imageVersion, env, now);
  } catch (error) {
    report.failed = error instanceof Error ? error.message : String(error);
    throw error;
  }
}

async function build(
  options: BuildImageOptions,
  deps: BuildImageDeps,
  report: BuildReport,
  imageVersion: string,
  env: Record<string, string | undefined>,
  now: Date,
): Promise<BuildImageResult> {
  const { logger } = deps;
  const { timings } = report;
  const directory = await checkProject(options);
  const floating = floatingTags(options.tags);
  if (floating.length > 0 && options.image) {
    logger.warning(
      `tags ${floating.join(", ")}: floating tags move to this image when it is pushed, before any signing or verification; leave them to cosign-sign's promotion unless that is what you want`,
    );
  }
  const sudo = useSudo(options.sudo, process.getuid?.() ?? 0, onPath("sudo", env) !== undefined);
  const sourceDate = resolveSourceDateEpoch({
    ...(options.sourceDateEpoch !== undefined ? { given: options.sourceDateEpoch } : {}),
    ...(env.SOURCE_DATE_EPOCH !== undefined ? { fromEnvironment: env.SOURCE_DATE_EPOCH } : {}),
    ...(options.sourceDateEpoch === undefined
      ? { commitTime: git(directory, "log", "-1", "--format=%ct") ?? "" }
      : {}),
    now,
  });
  for (const warning of sourceDate.warnings) logger.warning(warning);
  const epoch = sourceDate.epoch;

  // Install: a pinned, checksummed source tree, or the mkosi on PATH.
  const command = await timings.time("install mkosi", async () => {
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
    return (await installMkosi(options.mkosi, { logger })).path;
  });
  const runnerBase = { command, sudo, variables: options.variables, logger };
  const version = await mkosiVersion({ ...runnerBase, extraEnv: {} });
  report.mkosiVersion = version.text;
  logger.info(`mkosi ${version.text} (${command})${sudo ? ", run with sudo" : ""}`);
  assertSupportedVersion(version, `mkosi at ${command}`);

  // Workspace, TMPDIR and outputs on the volume with the most free space.
  const work = await timings.time("prepare", async () => {
    let root = options.workDirectory ? resolve(options.workDirectory) : undefined;
    if (!root) {
      const volume = chooseWorkVolume(await probeVolumes(candidatePaths(env, tmpdir())), sudo);
      root = join(volume.path, "frostyard-mkosi");
    }
    await ensureWritableDirectory(root, "work-directory", sudo, logger);
    const outputDirectory = options.outputDirectory ? resolve(options.outputDirectory) : join(root, "output");
    await ensureWritableDirectory(outputDirectory, "output-directory", sudo, logger);
    for (const sub of ["workspace", "tmp"])
      await ensureWritableDirectory(join(root, sub), "work-directory", sudo, logger);
    return { root, outputDirectory };
  });
  report.workVolume = work.root;
  report.freeBefore = await freeBytes(work.root);
  logger.info(
    `Working in ${work.root} (${Math.round(report.freeBefore / 2 ** 30)} GiB free), outputs in ${work.outputDirectory}`,
  );

  const runner: MkosiRunner = {
    ...runnerBase,
    extraEnv: { SOURCE_DATE_EPOCH: String(epoch), TMPDIR: join(work.root, "tmp") },
  };
  // mkosi's cache directory holds the incremental images (the speed); it is restored and saved by the
  // build cache. A project's own mkosi.cache/ is used as it is, otherwise one on the big volume. It is given
  // to `summary` as well, since mkosi refuses Incremental= without one.
  const projectCache = join(directory, "mkosi.cache");
  let cacheDirectory = existsSync(projectCache) ? projectCache : join(work.root, "cache");
  const mkosiOptions: MkosiOptions = {
    directory,
    profiles: options.profiles,
    imageVersion,
    environmentNames: options.variables.map((v) => v.name),
    cacheDirectory,
    workspaceDirectory: join(work.root, "workspace"),
    outputDirectory: work.outputDirectory,
    extraArgs: options.args,
  };
  const cacheInput = cacheDirectory === projectCache ? "directory" : "work-directory";
  await ensureWritableDirectory(cacheDirectory, cacheInput, sudo, logger);
  let images = await timings.time("mkosi summary", async () => {
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
    await ensureWritableDirectory(cacheDirectory, "directory", sudo, logger);
    return again;
  });
  if (manifestFormatToAdd(mainImage(images))) {
    mkosiOptions.manifestFormat = "json";
    images = withJsonManifest(images);
  }
  report.images = images;
  const main = mainImage(images);
  for (const image of images) {
    logger.info(
      `Image ${image.name}: Format=${image.format} ${image.distribution} ${image.release} ${image.architecture} → ${image.outputPath}`,
    );
  }
  if (main.format === "oci") assertNoInputsIgnoredByOciFormat(options);
  else if (options.ociLayout) await checkLayoutPath(resolve(options.ociLayout), sudo, logger);
  await timings.time("prepare runner", () => prepareRunner(images, sudo, env, logger));

  if (options.cache) {
    await timings.time("restore cache", () =>
      restoreCache(report, images, directory, cacheDirectory, work.root, sudo, deps, {
        period: cachePeriod(options.cacheRefresh ?? "weekly", now),
      }),
    );
  }

  await timings.time("mkosi build", () =>
    logger.group(
      `mkosi build ${options.profiles.length > 0 ? `(${options.profiles.join(", ")})` : ""}`.trim(),
      () => mkosiBuild(runner, mkosiOptions),
    ),
  );
  report.freeAfter = await freeBytes(work.root);
  for (const image of images) {
    const size = await diskUsage(image.outputPath);
    if (size !== undefined) (report.sizes as Map<string, number>).set(image.outputPath, size);
  }

  const rootfs = isDirectoryFormat(main.format) ? main.outputPath : "";
  const result: BuildImageResult = {
    report,
    imageVersion,
    rootfs,
    mkosiManifest: main.manifestPath && existsSync(main.manifestPath) ? main.manifestPath : "",
    main,
    layers: [],
    tags: [],
  };
  deps.onProgress?.(result);
  if (!options.image && !options.package) return result;

  let packaged: { layout: string; manifestDigest: string; layers: BuildImageResult["layers"] };
  if (main.format === "oci") {
    // mkosi made the OCI layout itself: name its manifest (the image version) and push it as it is.
    const layout = main.outputPath;
    const manifest = await timings.time("package", () =>
      nameMkosiLayout(layout, imageVersion, { sudo, scratch: work.root, logger }),
    );
    const layers = await manifestLayers(layout, manifest.digest);
    packaged = {
      layout,
      manifestDigest: manifest.digest,
      layers: layers.map((l) => ({ ...l, packages: [] })),
    };
    logger.info(`mkosi's OCI layout ${layout}: ${manifest.digest}, ${layers.length} layer(s)`);
  } else {
    if (!rootfs) {
      throw new Error(
        `packaging was asked for but the main image's Format=${main.format} is neither a directory tree nor an OCI layout; build-mkosi packages Format=directory and pushes Format=oci`,
      );
    }
    packaged = await packageDirectory(
      options,
      main,
      rootfs,
      imageVersion,
      epoch,
      directory,
      sudo,
      work.root,
      deps,
      env,
      timings,
    );
  }
  report.layers = packaged.layers;
  report.ociLayout = packaged.layout;
  report.digest = packaged.manifestDigest;
  result.ociLayout = packaged.layout;
  result.digest = packaged.manifestDigest;
  result.layers = packaged.layers.map((l) => ({ digest: l.digest, size: l.size, packages: l.packages }));
  result.tags = [...new Set([imageVersion, ...options.tags])];
  deps.onProgress?.(result);
  if (!options.push || !options.image) return result;

  const target = options.image;
  const credentials = new CredentialStore({ logger });
  if (options.registryUsername && options.registryPassword) {
    credentials.set(target.registry, {
      username: options.registryUsername,
      password: options.registryPassword,
    });
  }
  const client = new RegistryClient({ logger, credentials });
  const versionRef = formatReference({ ...target, tag: imageVersion });
  const existing = await client.headManifest({ ...target, tag: imageVersion });
  const action = versionTagAction(
    versionRef,
    existing?.digest,
    packaged.manifestDigest,
    options.overwriteVersion ?? false,
  );
  if (action === "same") logger.info(`${versionRef} already holds ${packaged.manifestDigest}`);
  if (action === "overwrite") {
    logger.warning(
      `${versionRef} held ${existing?.digest}; overwrite-version moves it to ${packaged.manifestDigest}`,
    );
  }
  const pushed = await timings.time("push", () =>
    logger.group(`push ${formatReference(target)}`, () =>
      pushLayout({
        client,
        layout: packaged.layout,
        refName: imageVersion,
        target,
        tags: result.tags,
        logger,
      }),
    ),
  );
  if (pushed.digest !== packaged.manifestDigest) {
    throw new Error(
      `the registry holds ${pushed.digest} for ${formatReference(target)}:${imageVersion}, not the packaged ${packaged.manifestDigest}`,
    );
  }
  const reference = `${target.registry}/${target.repository}@${pushed.digest}`;
  report.pushed = {
    image: reference,
    tags: pushed.tags,
    uploadedBytes: pushed.uploadedBytes,
    skippedBlobs: pushed.skippedBlobs,
  };
  result.digest = pushed.digest;
  result.pushedImage = reference;
  result.tags = pushed.tags;
  deps.onProgress?.(result);
  return result;
}

/** A Format=directory rootfs → a reproducible, chunked OCI layout (through `deps.packager` when given). */
async function packageDirectory(
  options: BuildImageOptions,
  main: MkosiImage,
  rootfs: string,
  imageVersion: string,
  epoch: number,
  directory: string,
  sudo: boolean,
  workRoot: string,
  deps: BuildImageDeps,
  env: Record<string, string | undefined>,
  timings: Timings,
) {
  const { logger } = deps;
  const layout = options.ociLayout ? resolve(options.ociLayout) : `${main.outputPath}.oci`;
  const metadata = standardImageMetadata({
    title: main.imageId ?? (options.image ? repositoryName(options.image).split("/").pop() : undefined),
    version: imageVersion,
    created: new Date(epoch * 1000).toISOString(),
    revision: env.GITHUB_SHA || git(directory, "rev-parse", "HEAD"),
    serverUrl: env.GITHUB_SERVER_URL,
    repository: env.GITHUB_REPOSITORY,
    gitRemote: env.GITHUB_REPOSITORY ? undefined : git(directory, "remote", "get-url", "origin"),
  });
  const packageOptions: PackageRequestOptions = {
    rootfs,
    layout,
    refName: imageVersion,
    labels: { ...metadata, ...Object.fromEntries(options.labels) },
    annotations: { ...metadata, ...Object.fromEntries(options.annotations) },
    maxLayers: options.maxLayers,
    compression: options.compression,
    sourceDateEpoch: epoch,
    bootable: options.bootable,
  };
  return timings.time("package", () =>
    logger.group("package rootfs as an OCI image", () =>
      deps.packager
        ? deps.packager(packageOptions, { sudo, scratch: workRoot })
        : packageRootfs({ ...packageOptions, logger }),
    ),
  );
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

async function restoreCache(
  report: BuildReport,
  images: readonly MkosiImage[],
  directory: string,
  cacheDirectory: string,
  workRoot: string,
  sudo: boolean,
  deps: BuildImageDeps,
  { period }: { period: string },
): Promise<void> {
  const { logger, cache: store } = deps;
  const files = [];
  for (const path of configFilePaths(images)) {
    const absolute = isAbsolute(path) ? path : join(directory, path);
    const content = await readFile(absolute).catch(() => undefined);
    if (content !== undefined) files.push({ path: absolute, content });
  }
  const keys = cacheKeys({
    images,
    profiles: report.profiles,
    mkosiVersion: report.mkosiVersion,
    configHash: hashConfigFiles(directory, files),
    period,
  });
  const archive = join(workRoot, "mkosi-cache.tar.zst");
  report.cache = { enabled: true, key: keys.key, store: store.description, period };
  const state: BuildCacheState = { key: keys.key, cacheDirectory, archive, sudo };
  deps.onCacheState?.(state);
  logger.info(`Cache key ${keys.key} (${store.description}); restore keys: ${keys.restoreKeys.join(", ")}`);
  let restored: string | undefined;
  try {
    restored = await store.restore(keys.key, keys.restoreKeys, [archive]);
  } catch (error) {
    logger.warning(`Restoring the mkosi cache failed, building without it: ${(error as Error).message}`);
  }
  report.cache.outcome = cacheOutcome(keys.key, restored);
  if (restored === undefined) {
    logger.info("Cache miss: mkosi builds from scratch and the post step saves its cache");
    return;
  }
  report.cache.restoredKey = restored;
  const restoredBytes = (await stat(archive)).size;
  report.cache.restoredBytes = restoredBytes;
  deps.onCacheState?.({ ...state, restored });
  // Only an exact hit leaves the cache untouched by mkosi (a restore-key hit makes it rebuild the cache in
  // place, as big as the image), and only our own cache directory is ours to mount over.
  const size =
    restored === keys.key && cacheDirectory === join(workRoot, "cache")
      ? tmpfsSize(restoredBytes, availableMemory(await readMeminfo()))
      : undefined;
  const tmpfs = size !== undefined && (await mountCacheTmpfs(cacheDirectory, size, { sudo, logger }));
  if (tmpfs) deps.onCacheState?.({ ...state, restored, tmpfs });
  try {
    await unpackDirectory(archive, cacheDirectory, { sudo, logger });
  } catch (error) {
    if (!tmpfs) throw error;
    // Bigger than the estimate: give the memory back and unpack onto the disk as without a tmpfs.
    logger.info(`Unpacking into the tmpfs failed (${(error as Error).message}); unpacking onto the disk`);
    await unmountCacheTmpfs(cacheDirectory, { sudo, logger });
    deps.onCacheState?.({ ...state, restored });
    await unpackDirectory(archive, cacheDirectory, { sudo, logger });
  }
  await rm(archive, { force: true });
  logger.info(`Cache ${report.cache.outcome}: restored ${restored} into ${cacheDirectory}`);
}

/** The post step: saves mkosi's cache directory, also after a failed build; an exact hit is already stored. */
export async function saveBuildCache(
  state: BuildCacheState,
  deps: {
    logger: Logger;
    cache: BuildCache;
    /** Told the bytes of the archive handed to the store, for the summary. */
    onSaved?: (bytes: number) => void;
  },
): Promise<"saved" | "hit" | "empty"> {
  const { logger, cache: store } = deps;
  if (state.restored === state.key) {
    logger.info(`Cache ${state.key} was restored exactly; nothing to save`);
    if (state.tmpfs) await unmountCacheTmpfs(state.cacheDirectory, { sudo: state.sudo, logger });
    return "hit";
  }
  const entries = await readdir(state.cacheDirectory).catch(() => []);
  if (entries.length === 0) {
    logger.info(`mkosi's cache directory ${state.cacheDirectory} is empty; nothing to save`);
    return "empty";
  }
  await packDirectory(state.cacheDirectory, state.archive, { sudo: state.sudo, logger });
  const size = (await stat(state.archive)).size;
  await store.save(state.key, [state.archive]);
  await rm(state.archive, { force: true });
  deps.onSaved?.(size);
  logger.info(
    `Saved mkosi's cache as ${state.key} (${Math.round(size / 2 ** 20)} MiB, ${store.description})`,
  );
  return "saved";
}
