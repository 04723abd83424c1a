import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import {
  bootcImageBuilderRun,
  imageBuilderOutput,
  imageBuilderRuns,
  GRAPH_ROOT_ARGV,
  pullArgv,
  type BuilderRun,
  type BuilderRunOptions,
} from "./builder-argv";
import { renderConfig } from "./config";
import { describeArtifact, diskInfo, type DiskArtifact } from "./convert";
import { freeOn, freeSpaceLine } from "./free-space";
import {
  chooseContainerStorage,
  describeVolume,
  ensureDirectory,
  podmanCall,
  volumeState,
  type ContainerStoragePlan,
  type ContainerStorageRequest,
} from "./storage-volume";
import type { TomlTable } from "./toml";
import { BOOTABLE_TYPES, QEMU_FORMAT } from "./types";

export interface BuildWithContainerOptions extends Omit<BuilderRunOptions, "configFile"> {
  builder: "image-builder" | "bootc-image-builder";
  config?: TomlTable;
  /** Where the rendered config is written (outside the output directory, so it is not uploaded). */
  scratch: string;
  logger: Logger;
  /** `podman`, or a wrapper such as `sudo podman` for rootful storage: command and leading arguments. */
  podman?: PodmanCommand;
  /**
   * Who gets the builder's files when podman ran through sudo: the builders write as root, and the
   * checksum files beside each disk are written by us afterwards.
   */
  owner?: { uid: number; gid: number };
  /** Where the pull and the builders' storage go (src/storage-volume.ts); default: podman's as configured. */
  containerStorage?: ContainerStorageRequest;
  /** The volume automatic storage compares with and moves to; default: the output directory's. */
  workVolume?: string;
}

export interface PodmanCommand {
  command: string;
  prefix: string[];
}

/** What podman reads its configuration and scratch space from: kept across sudo when set. */
export const PODMAN_ENV = [
  "CONTAINERS_CONF",
  "CONTAINERS_STORAGE_CONF",
  "CONTAINERS_REGISTRIES_CONF",
  "REGISTRY_AUTH_FILE",
  "TMPDIR",
] as const;

/**
 * How to reach the rootful podman both builders need (root's storage, loop devices): as is when we are
 * root, else through `sudo -n` (fails at once instead of asking for a password) with podman's own
 * variables named, never their values.
 */
export function rootfulPodman(
  uid: number,
  env: Readonly<Record<string, string | undefined>>,
  /** More variables podman must see (the AMI upload's credentials, passed on with `-e NAME`). */
  also: readonly string[] = [],
): PodmanCommand {
  if (uid === 0) return { command: "podman", prefix: [] };
  const keep = [...PODMAN_ENV, ...also].filter((name) => env[name]);
  return {
    command: "sudo",
    prefix: ["-n", ...(keep.length > 0 ? [`--preserve-env=${keep.join(",")}`] : []), "--", "podman"],
  };
}

/** `sudo` arguments that give a root-written tree back to its user. */
export function chownArgv(owner: { uid: number; gid: number }, path: string): string[] {
  return ["-n", "--", "chown", "-R", `${owner.uid}:${owner.gid}`, path];
}

/** A builder that exited 0 but left no file where it lays a type out. */
export class BuilderOutputError extends Error {
  constructor(type: string, where: string) {
    super(`the builder reported success but wrote no ${type} file at ${where}`);
    this.name = "BuilderOutputError";
  }
}

/**
 * Pulls the source image by digest into the rootful storage, runs the builder (once per type where it needs
 * it) and describes each file it laid out. Callers verify the source's signature before this.
 */
export async function buildWithContainer(options: BuildWithContainerOptions): Promise<DiskArtifact[]> {
  const { logger } = options;
  const podman = options.podman ?? { command: "podman", prefix: [] };
  let configFile: string | undefined;
  if (options.config) {
    const rendered = renderConfig(options.config);
    await mkdir(options.scratch, { recursive: true });
    configFile = join(options.scratch, rendered.fileName);
    await writeFile(configFile, rendered.content, { mode: 0o600 });
  }
  await mkdir(options.outputDirectory, { recursive: true });
  const graphRoot = async (plan: ContainerStoragePlan) => {
    const call = podmanCall(podman, plan, GRAPH_ROOT_ARGV);
    return (await execStreaming(call.command, call.args, { logger, captureStdout: true })).stdout.trim();
  };
  const request: ContainerStorageRequest = options.storage
    ? { kind: "default" }
    : (options.containerStorage ?? { kind: "default" });
  const plan = chooseContainerStorage(
    request,
    request.kind === "auto" ? await volumeState(await graphRoot({ reason: "" })) : { path: "" },
    request.kind === "auto" ? await volumeState(options.workVolume ?? options.outputDirectory) : { path: "" },
  );
  const owner = options.owner ?? { uid: 0, gid: 0 };
  for (const dir of [plan.root, plan.runroot])
    if (dir) await ensureDirectory(dir, { uid: owner.uid, gid: owner.gid, logger });
  // Pull, graph root and every run go to one storage: the builder reads the very image that was pulled.
  const exec = (argv: string[]) => {
    const call = podmanCall(podman, plan, argv);
    return execStreaming(call.command, call.args, { logger });
  };
  await logger.group(`pull ${options.sourceRef}`, () => exec(pullArgv(options.sourceRef, options.arch)));
  const storage = options.storage ?? plan.root ?? (await graphRoot(plan));
  const why = options.storage ? "the storage the caller named" : plan.reason;
  logger.info(`${describeVolume("container storage", await volumeState(storage))}: ${why}`);
  // The builders' osbuild trees live in the storage, often on another volume than the output.
  const storageFree = { path: `container storage ${storage}`, before: await freeOn(storage) };
  const runOptions: BuilderRunOptions = { ...options, storage, ...(configFile ? { configFile } : {}) };
  const runs: BuilderRun[] =
    options.builder === "image-builder" ? imageBuilderRuns(runOptions) : [bootcImageBuilderRun(runOptions)];
  const artifacts: DiskArtifact[] = [];
  for (const run of runs) {
    await logger.group(`${options.builder}: ${run.types.join(", ")}`, () => exec(run.argv));
    if (options.owner)
      await execStreaming("sudo", chownArgv(options.owner, options.outputDirectory), { logger });
    for (const type of run.types) {
      let relative = run.outputs[type]!;
      if (relative.endsWith("/")) {
        const names = await readdir(join(options.outputDirectory, relative)).catch(() => [] as string[]);
        const found = imageBuilderOutput(type, names);
        if (!found) throw new BuilderOutputError(type, join(options.outputDirectory, relative));
        relative += found;
      }
      const path = join(options.outputDirectory, relative);
      const info = BOOTABLE_TYPES.includes(type)
        ? await diskInfo(path, logger, QEMU_FORMAT[type]).catch(() => {
            throw new BuilderOutputError(type, path);
          })
        : undefined;
      artifacts.push(await describeArtifact(type, path, info));
    }
  }
  logger.info(freeSpaceLine({ ...storageFree, after: await freeOn(storage) }));
  return artifacts;
}
