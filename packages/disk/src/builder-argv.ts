import { amiUploadArgs, AmiUploadError, type AmiUpload } from "./ami";
import { BIB_OUTPUT_PATHS, IMAGE_BUILDER_EXTENSIONS, kernelArch, type Arch } from "./types";

/**
 * Where both builders read the source image from inside their container (pulled into the host's rootful
 * storage first, by digest, and that storage mounted here).
 */
export const CONTAINER_STORAGE = "/var/lib/containers/storage";

/**
 * The builder images used when the input is left empty, each pinned by digest (never a moving tag: a builder
 * that changes under a pinned workflow changes its disks). Renovate-style `# tag` comments live in action.yml.
 *
 * Neither registry can be reached from our machines, so the digests were checked against public sources
 * (December 2026, through the reference search):
 * - image-builder: one independent source, a Fedora 44 bootc project's build log that ran this exact
 *   digest rootful (`podman inspect`: created 2026-08-25, image-builder commit 5a8232a2, osbuild 192),
 *   whose `build --help` listed --bootc-ref, --bootc-default-fs and --bootc-installer-payload-ref, and that
 *   wrote `/output/bootc-fedora-44-qcow2-x86_64.qcow2` with `--output-dir /output`. The image is rebuilt
 *   from main continually (other projects pin newer builds, e.g. image-builder 83.0.0); whether this digest
 *   is the multi-arch index or the amd64 manifest is not shown by that source, so arm64 is unconfirmed.
 * - bootc-image-builder: pinned by more than ten unrelated repositories (justfiles, build scripts, a
 *   release workflow test that uses it for x86 and ARM disks, so an index), two of them saying it was
 *   `:latest` on 2026-07-11 and still on 2026-09-21: the build that outlived the June 2026 archiving.
 * Unchanged for want of evidence against them.
 */
export const DEFAULT_BUILDER_IMAGES = {
  "image-builder":
    "ghcr.io/osbuild/image-builder-cli@sha256:55ce154eaad86a4fcd43998588ccb6e15c801d25e392dab5c8073627f22ae37e",
  // The archived repository's last build; kept for images image-builder does not yet build the same way.
  "bootc-image-builder":
    "quay.io/centos-bootc/bootc-image-builder@sha256:2b52843ea2bfda73b0a08d97e76b734393b1d3a804681b9fabb26723bd3a2f0b",
} as const;

/** A builder image not pinned by digest: a domain error the entry maps to its input. */
export class BuilderImageError extends Error {
  constructor(readonly image: string) {
    super(`'${image.slice(0, 120)}' is not pinned by digest`);
    this.name = "BuilderImageError";
  }
}

const DIGEST_PINNED = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

export function assertPinned(image: string): string {
  if (!DIGEST_PINNED.test(image)) throw new BuilderImageError(image);
  return image;
}

export interface BuilderRunOptions {
  /** The builder's container image, pinned by digest. */
  builderImage: string;
  /** The source bootc image, by digest, already in the rootful storage. */
  sourceRef: string;
  types: readonly string[];
  arch: Arch;
  /** Host directory mounted as the builder's /output. */
  outputDirectory: string;
  /**
   * The host's container storage (podman's graph root) that the source was pulled into; default
   * CONTAINER_STORAGE. A runner that moved rootful storage to its biggest volume has it elsewhere, and the
   * builder must see the storage the pull wrote to.
   */
  storage?: string;
  /** Host path of the rendered config file; mounted read-only at the place each builder reads it. */
  configFile?: string;
  /** image-builder: the image that builds the disk (--bootc-build-ref). */
  buildRef?: string;
  /** image-builder: what an installer type installs (--bootc-installer-payload-ref). */
  installerPayloadRef?: string;
  /** Root filesystem when the image sets none (--bootc-default-fs / --rootfs). */
  rootfs?: string;
  /** Passed through as they are, after ours. */
  extraArgs?: readonly string[];
  /** The builder uploads the ami disk to AWS after building it (src/ami.ts). */
  amiUpload?: AmiUpload;
  /**
   * Variables the AMI upload reads (credentials), passed by name (`-e NAME`, podman copies the value from
   * its own environment), and only to the run that builds the ami.
   */
  amiEnv?: readonly string[];
}

export interface BuilderRun {
  /** The types this invocation makes. */
  types: string[];
  /** `podman` arguments. */
  argv: string[];
  /** Each type's file relative to the output directory; a directory (ending in /) where the builder names it. */
  outputs: Record<string, string>;
}

/** bootc-image-builder cannot take what image-builder can: a domain error naming the option. */
export class BuilderOptionError extends Error {
  constructor(
    readonly option: "installerPayloadRef" | "buildRef",
    readonly builder: string,
  ) {
    super(
      `${builder} has no ${option === "installerPayloadRef" ? "installer payload" : "build image"} option`,
    );
    this.name = "BuilderOptionError";
  }
}

/** The upload, when asked for; both builders refuse (or silently skip) it without an ami to upload. */
function amiRequested(options: BuilderRunOptions): AmiUpload | undefined {
  if (options.amiUpload && !options.types.includes("ami"))
    throw new AmiUploadError(
      "types",
      `an AMI upload needs the ami type, and types are ${options.types.join(", ")}`,
    );
  return options.amiUpload;
}

function podmanPrefix(options: BuilderRunOptions, configTarget: string, uploads = false): string[] {
  return [
    "run",
    "--rm",
    // Both builders loop-mount, partition and run osbuild's stages: they need the host's devices.
    "--privileged",
    "--pull=missing",
    "--security-opt",
    "label=type:unconfined_t",
    "-v",
    `${options.storage ?? CONTAINER_STORAGE}:${CONTAINER_STORAGE}`,
    "-v",
    `${options.outputDirectory}:/output`,
    ...(options.configFile ? ["-v", `${options.configFile}:${configTarget}:ro`] : []),
    ...(uploads ? (options.amiEnv ?? []).flatMap((name) => ["-e", name]) : []),
    assertPinned(options.builderImage),
  ];
}

/**
 * image-builder's invocations: `build` takes one type, so one run per type, each into its own directory: it
 * names the file after the image (`bootc-fedora-44-qcow2-x86_64.qcow2`), so the file is found afterwards by
 * `imageBuilderOutput`.
 */
export function imageBuilderRuns(options: BuilderRunOptions): BuilderRun[] {
  const upload = amiRequested(options);
  return options.types.map((type) => ({
    types: [type],
    argv: [
      ...podmanPrefix(options, "/config.toml", upload !== undefined && type === "ami"),
      "build",
      "--bootc-ref",
      options.sourceRef,
      ...(options.buildRef ? ["--bootc-build-ref", options.buildRef] : []),
      ...(options.installerPayloadRef ? ["--bootc-installer-payload-ref", options.installerPayloadRef] : []),
      ...(options.rootfs ? ["--bootc-default-fs", options.rootfs] : []),
      "--arch",
      kernelArch(options.arch),
      ...(options.configFile ? ["--blueprint", "/config.toml"] : []),
      "--output-dir",
      `/output/${type}`,
      ...(upload && type === "ami" ? amiUploadArgs(upload) : []),
      ...(options.extraArgs ?? []),
      type,
    ],
    outputs: { [type]: `${type}/` },
  }));
}

/**
 * bootc-image-builder's invocation: every type in one run (it builds them from one manifest), its config
 * where its README mounts it, the source image last.
 */
export function bootcImageBuilderRun(options: BuilderRunOptions): BuilderRun {
  if (options.installerPayloadRef) throw new BuilderOptionError("installerPayloadRef", "bootc-image-builder");
  if (options.buildRef) throw new BuilderOptionError("buildRef", "bootc-image-builder");
  // "iso" and "anaconda-iso" are one image: asking for both would build it twice into one path.
  const types = options.types.filter((t) => !(t === "iso" && options.types.includes("anaconda-iso")));
  const upload = amiRequested(options);
  return {
    types,
    argv: [
      ...podmanPrefix(options, "/config.toml", upload !== undefined),
      ...types.flatMap((t) => ["--type", t]),
      "--target-arch",
      options.arch,
      ...(options.rootfs ? ["--rootfs", options.rootfs] : []),
      ...(options.configFile ? ["--config", "/config.toml"] : []),
      ...(upload ? amiUploadArgs(upload) : []),
      ...(options.extraArgs ?? []),
      options.sourceRef,
    ],
    outputs: Object.fromEntries(types.map((t) => [t, BIB_OUTPUT_PATHS[t]!])),
  };
}

/**
 * The one file image-builder wrote for `type` among the names in its directory; undefined when there is none
 * or more than one could be it.
 */
export function imageBuilderOutput(type: string, names: readonly string[]): string | undefined {
  const ext = `.${IMAGE_BUILDER_EXTENSIONS[type]}`;
  const candidates = names.filter((n) => n.endsWith(ext));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** `podman pull` of the source image by digest into the rootful storage the builders read. */
export function pullArgv(sourceRef: string, arch: Arch): string[] {
  return ["pull", "--arch", arch, sourceRef];
}

/** `podman info` printing only the graph root: the storage the pull wrote to, mounted into the builder. */
export const GRAPH_ROOT_ARGV: readonly string[] = ["info", "--format", "{{.Store.GraphRoot}}"];
