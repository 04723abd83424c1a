import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { access, constants, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { execStreaming, InputError, Timings, type Logger } from "@frostyard/kit";
import {
  assertSupportedVersion,
  cacheKeys,
  checkProfiles,
  configFilePaths,
  candidatePaths,
  chooseWorkVolume,
  defaultImageVersion,
  findProjectProfiles,
  freeBytes,
  hashConfigFiles,
  installMkosi,
  isDirectoryFormat,
  mainImage,
  manifestLayers,
  nameMkosiLayout,
  mkosiBuild,
  mkosiSummary,
  mkosiVersion,
  packDirectory,
  pathsOfInterest,
  planRunnerPreparation,
  prepStepArgv,
  probeVolumes,
  unpackDirectory,
  useSudo,
  USERNS_SYSCTLS,
  withSudo,
  type MkosiImage,
  type MkosiOptions,
  type MkosiRunner,
} from "@frostyard/mkosi";
import { CredentialStore, formatReference, pushLayout, RegistryClient, repositoryName } from "@frostyard/oci";
import { packageRootfs, standardLabels } from "@frostyard/rootfs-oci";
import {
  coreLogger,
  inputGetter,
  readState,
  run,
  saveState,
  setJsonOutput,
  setOutput,
  writeSummary,
} from "..";
import { selectBuildCache } from "./cache-store";
import {
  PACKAGE_REQUEST_ENV,
  packageInChild,
  packagesInChild,
  servePackageRequest,
  type PackageRequestOptions,
} from "./package-as-root";
import { parseInputs, secretValues, type BuildMkosiInputs } from "./inputs";
import { cacheOutcome, summaryMarkdown, type BuildReport } from "./report";

const STATE = {
  cacheKey: "cacheKey",
  cacheRestored: "cacheRestored",
  cacheDirectory: "cacheDirectory",
  cacheArchive: "cacheArchive",
  sudo: "sudo",
} as const;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function git(directory: string, ...args: string[]): string | undefined {
  const result = spawnSync("git", ["-C", directory, ...args], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** SOURCE_DATE_EPOCH: the input, the environment's, the commit time of the project, else now. */
function sourceDateEpoch(inputs: BuildMkosiInputs, directory: string): number {
  if (inputs.sourceDateEpoch !== undefined) return inputs.sourceDateEpoch;
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  if (fromEnv && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  const commitTime = git(directory, "log", "-1", "--format=%ct");
  if (commitTime && /^\d+$/.test(commitTime)) return Number(commitTime);
  return Math.floor(Date.now() / 1000);
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
  logger: Logger,
): Promise<string[]> {
  const sysctls: Record<string, string | undefined> = {};
  for (const key of USERNS_SYSCTLS) sysctls[key] = await readSysctl(key);
  const steps = planRunnerPreparation({
    githubHosted: process.env.RUNNER_ENVIRONMENT === "github-hosted",
    osId: await osId(),
    sysctls,
    existingPaths: new Set(pathsOfInterest().filter((p) => existsSync(p))),
    distributions: images.map((i) => i.distribution),
    formats: images.map((i) => i.format),
    hasSystemdRepart: onPath("systemd-repart") !== undefined,
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

async function main(): Promise<void> {
  const logger = coreLogger;
  const inputs = parseInputs(inputGetter);
  for (const secret of secretValues(inputs)) logger.setSecret(secret);
  const timings = new Timings();
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const directory = resolve(workspace, inputs.directory);
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(
      "directory",
      `'${inputs.directory}' (${directory}) is not a directory`,
      "the path of an mkosi project, relative to the workspace",
    );
  }
  if (!existsSync(join(directory, "mkosi.conf")) && !existsSync(join(directory, "mkosi.conf.d"))) {
    throw new InputError(
      "directory",
      `'${inputs.directory}' has no mkosi.conf or mkosi.conf.d`,
      "the directory holding the project's mkosi.conf",
    );
  }
  checkProfiles(inputs.profiles, await findProjectProfiles(directory));
  const imageVersion = inputs.imageVersion ?? defaultImageVersion(new Date());
  const sudo = useSudo(inputs.sudo, process.getuid?.() ?? 0, onPath("sudo") !== undefined);

  const report: BuildReport = {
    mkosiVersion: "?",
    profiles: inputs.profiles,
    imageVersion,
    images: [],
    sizes: new Map(),
    cache: { enabled: inputs.cache },
    timings,
  };
  setOutput("image-version", imageVersion);
  try {
    await build(inputs, directory, imageVersion, sudo, report, logger);
  } catch (error) {
    report.failed = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    await writeSummary(summaryMarkdown(report));
  }
}

async function build(
  inputs: BuildMkosiInputs,
  directory: string,
  imageVersion: string,
  sudo: boolean,
  report: BuildReport,
  logger: Logger,
): Promise<void> {
  const { timings } = report;
  const epoch = sourceDateEpoch(inputs, directory);

  // Install: a pinned, checksummed source tree, or the mkosi on PATH.
  const command = await timings.time("install mkosi", async () => {
    if (inputs.mkosi.kind === "system") {
      const found = onPath("mkosi");
      if (!found) {
        throw new InputError(
          "mkosi-ref",
          "is 'system' but mkosi is not on PATH",
          "a 40-hex systemd/mkosi commit with mkosi-sha256, or an mkosi on PATH",
        );
      }
      return found;
    }
    return (await installMkosi(inputs.mkosi, { logger })).path;
  });
  const runnerBase = { command, sudo, variables: inputs.variables, logger };
  const version = await mkosiVersion({ ...runnerBase, extraEnv: {} });
  report.mkosiVersion = version.text;
  logger.info(`mkosi ${version.text} (${command})${sudo ? ", run with sudo" : ""}`);
  assertSupportedVersion(version, `mkosi at ${command}`);

  // Workspace, TMPDIR and outputs on the volume with the most free space.
  const work = await timings.time("prepare", async () => {
    let root = inputs.workDirectory ? resolve(inputs.workDirectory) : undefined;
    if (!root) {
      const volume = chooseWorkVolume(await probeVolumes(candidatePaths(process.env, tmpdir())), sudo);
      root = join(volume.path, "frostyard-mkosi");
    }
    await ensureWritableDirectory(root, "work-directory", sudo, logger);
    const outputDirectory = inputs.outputDirectory ? resolve(inputs.outputDirectory) : join(root, "output");
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
  const cacheDirectory = existsSync(projectCache) ? projectCache : join(work.root, "cache");
  const options: MkosiOptions = {
    directory,
    profiles: inputs.profiles,
    imageVersion,
    environmentNames: inputs.variables.map((v) => v.name),
    cacheDirectory,
    workspaceDirectory: join(work.root, "workspace"),
    outputDirectory: work.outputDirectory,
    extraArgs: inputs.args,
  };
  await ensureWritableDirectory(cacheDirectory, "work-directory", sudo, logger);
  const images = await timings.time("mkosi summary", () => mkosiSummary(runner, options));
  report.images = images;
  const main = mainImage(images);
  for (const image of images) {
    logger.info(
      `Image ${image.name}: Format=${image.format} ${image.distribution} ${image.release} ${image.architecture} → ${image.outputPath}`,
    );
  }
  await timings.time("prepare runner", () => prepareRunner(images, sudo, logger));

  if (inputs.cache) {
    await timings.time("restore cache", () =>
      restoreCache(report, images, directory, cacheDirectory, work.root, sudo, logger),
    );
  }

  await timings.time("mkosi build", () =>
    logger.group(
      `mkosi build ${inputs.profiles.length > 0 ? `(${inputs.profiles.join(", ")})` : ""}`.trim(),
      () => mkosiBuild(runner, options),
    ),
  );
  report.freeAfter = await freeBytes(work.root);
  for (const image of images) {
    const size = await diskUsage(image.outputPath);
    if (size !== undefined) (report.sizes as Map<string, number>).set(image.outputPath, size);
  }

  const rootfs = isDirectoryFormat(main.format) ? main.outputPath : "";
  setOutput("rootfs", rootfs);
  setOutput("mkosi-manifest", main.manifestPath && existsSync(main.manifestPath) ? main.manifestPath : "");

  if (!inputs.image) {
    setOutput("digest", "");
    setOutput("image", "");
    setJsonOutput("tags", []);
    setOutput("oci-layout", "");
    setJsonOutput("layers", []);
    return;
  }
  const target = inputs.image;
  let packaged: {
    layout: string;
    manifestDigest: string;
    layers: { digest: string; size: number; packages: string[] }[];
  };
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
        `image is set but the main image's Format=${main.format} is neither a directory tree nor an OCI layout; build-mkosi packages Format=directory and pushes Format=oci`,
      );
    }
    packaged = await packageDirectory(
      inputs,
      main,
      rootfs,
      imageVersion,
      epoch,
      directory,
      sudo,
      work.root,
      logger,
      timings,
    );
  }
  report.layers = packaged.layers;
  report.ociLayout = packaged.layout;
  report.digest = packaged.manifestDigest;
  setOutput("oci-layout", packaged.layout);
  setJsonOutput(
    "layers",
    packaged.layers.map((l) => ({ digest: l.digest, size: l.size, packages: l.packages })),
  );
  const tags = [...new Set([imageVersion, ...inputs.tags])];
  setJsonOutput("tags", tags);
  setOutput("digest", packaged.manifestDigest);
  if (!inputs.push) {
    setOutput("image", "");
    return;
  }
  const credentials = new CredentialStore({ logger });
  if (inputs.registryUsername && inputs.registryPassword) {
    credentials.set(target.registry, {
      username: inputs.registryUsername,
      password: inputs.registryPassword,
    });
  }
  const client = new RegistryClient({ logger, credentials });
  const pushed = await timings.time("push", () =>
    logger.group(`push ${formatReference(target)}`, () =>
      pushLayout({ client, layout: packaged.layout, refName: imageVersion, target, tags, logger }),
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
  setOutput("digest", pushed.digest);
  setOutput("image", reference);
  setJsonOutput("tags", pushed.tags);
}

/** A Format=directory rootfs → a reproducible, chunked OCI layout (as root in a child process when mkosi needed sudo). */
async function packageDirectory(
  inputs: BuildMkosiInputs,
  main: MkosiImage,
  rootfs: string,
  imageVersion: string,
  epoch: number,
  directory: string,
  sudo: boolean,
  workRoot: string,
  logger: Logger,
  timings: Timings,
) {
  const target = inputs.image!;
  const layout = inputs.ociLayout ? resolve(inputs.ociLayout) : `${main.outputPath}.oci`;
  const packageOptions: PackageRequestOptions = {
    rootfs,
    layout,
    refName: imageVersion,
    labels: {
      ...standardLabels({
        title: main.imageId ?? repositoryName(target).split("/").pop(),
        version: imageVersion,
        created: new Date(epoch * 1000).toISOString(),
        revision: process.env.GITHUB_SHA || git(directory, "rev-parse", "HEAD"),
        source: process.env.GITHUB_REPOSITORY
          ? `${process.env.GITHUB_SERVER_URL || "https://github.com"}/${process.env.GITHUB_REPOSITORY}`
          : undefined,
      }),
      ...Object.fromEntries(inputs.labels),
    },
    annotations: Object.fromEntries(inputs.annotations),
    maxLayers: inputs.maxLayers,
    compression: inputs.compression,
    sourceDateEpoch: epoch,
    bootable: inputs.bootable,
  };
  const inChild = packagesInChild(sudo, process.getuid?.() ?? 0, process.env);
  return timings.time("package", () =>
    logger.group("package rootfs as an OCI image", () =>
      inChild
        ? packageInChild(packageOptions, workRoot, sudo, logger)
        : packageRootfs({ ...packageOptions, logger }),
    ),
  );
}

async function restoreCache(
  report: BuildReport,
  images: readonly MkosiImage[],
  directory: string,
  cacheDirectory: string,
  workRoot: string,
  sudo: boolean,
  logger: Logger,
): Promise<void> {
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
  });
  const store = selectBuildCache();
  const archive = join(workRoot, "mkosi-cache.tar.zst");
  report.cache = { enabled: true, key: keys.key, store: store.description };
  saveState(STATE.cacheKey, keys.key);
  saveState(STATE.cacheDirectory, cacheDirectory);
  saveState(STATE.cacheArchive, archive);
  saveState(STATE.sudo, String(sudo));
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
  report.cache.restoredBytes = (await stat(archive)).size;
  saveState(STATE.cacheRestored, restored);
  await unpackDirectory(archive, cacheDirectory, { sudo, logger });
  await rm(archive, { force: true });
  logger.info(`Cache ${report.cache.outcome}: restored ${restored} into ${cacheDirectory}`);
}

/** Saves mkosi's cache directory, also after a failed build; an exact hit is already stored. */
async function post(): Promise<void> {
  const logger = coreLogger;
  const key = readState(STATE.cacheKey);
  if (!key) return;
  if (readState(STATE.cacheRestored) === key) {
    logger.info(`Cache ${key} was restored exactly; nothing to save`);
    return;
  }
  const cacheDirectory = readState(STATE.cacheDirectory);
  const archive = readState(STATE.cacheArchive);
  const entries = await readdir(cacheDirectory).catch(() => []);
  if (entries.length === 0) {
    logger.info(`mkosi's cache directory ${cacheDirectory} is empty; nothing to save`);
    return;
  }
  const sudo = readState(STATE.sudo) === "true";
  await packDirectory(cacheDirectory, archive, { sudo, logger });
  const size = (await stat(archive)).size;
  const store = selectBuildCache();
  await store.save(key, [archive]);
  await rm(archive, { force: true });
  logger.info(`Saved mkosi's cache as ${key} (${Math.round(size / 2 ** 20)} MiB, ${store.description})`);
}

const packageRequest = process.env[PACKAGE_REQUEST_ENV];
if (packageRequest) await servePackageRequest(packageRequest);
else await run(main, post);
