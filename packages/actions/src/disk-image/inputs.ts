import {
  getBoolean,
  getEnum,
  getInteger,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import {
  acceptedTypes,
  amiAccepted,
  AmiUploadError,
  checkAmiUpload,
  ARCHES,
  assertPinned,
  BuilderImageError,
  compileExpect,
  BootCommandError,
  BootExpectError,
  ByteSizeError,
  DEFAULT_ARTIFACT_PART_SIZE,
  parseByteSize,
  checkBootCommands,
  DEFAULT_BUILDER_IMAGES,
  DiskConfigError,
  DiskTypeError,
  hostArch,
  normalizeArch,
  parseConfig,
  takesConfig,
  validateTypes,
  type AmiUpload,
  type Arch,
  type TomlTable,
  type ContainerStorageRequest,
} from "@frostyard/disk";
import { parseReference } from "@frostyard/oci";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { SharedBuildOptions } from "../build-sysext/inputs";
import { parseMkosiInputs } from "./mkosi";
import { parsePushInputs, type DiskPushInputs } from "./push";

/** The engines this entry runs. */
export const ENTRY_BUILDERS = ["image-builder", "bootc-image-builder", "mkosi", "qemu-img"] as const;
export type EntryBuilder = (typeof ENTRY_BUILDERS)[number];

export interface DiskImageInputs {
  builder: EntryBuilder;
  /** The source image by digest or tag (resolved to a digest before anything runs). */
  image?: string;
  publicKey?: string;
  sourceDisk?: string;
  /** builder mkosi: the project and how to build it (build-mkosi's inputs). */
  mkosi?: SharedBuildOptions;
  types: string[];
  config?: TomlTable;
  arch: Arch;
  builderImage: string;
  buildRef?: string;
  installerPayloadRef?: string;
  rootfs?: string;
  builderArgs: string[];
  bootTest: boolean;
  bootTimeoutSeconds: number;
  bootExpect: readonly RegExp[];
  /** Typed into the booted guest's serial console, each must exit 0. */
  bootCommands: string[];
  /** Relative to the workspace; undefined: `disk-output` on the volume with the most free space. */
  outputDirectory?: string;
  /** The builders' rootful storage (container-storage). */
  containerStorage: ContainerStorageRequest;
  name: string;
  upload: boolean;
  artifactName: string;
  /** Bytes per artifact; larger files split into parts (0: one artifact of whole files). */
  artifactPartSize: number;
  /** The builder uploads the ami to AWS (aws-ami-name, aws-bucket, aws-region). */
  amiUpload?: AmiUpload;
  /** Where the disks go as one OCI artifact, after every boot test passed; undefined: not pushed. */
  push?: DiskPushInputs;
}

function withOutputDirectory(value: string | undefined): { outputDirectory?: string } {
  return value === undefined ? {} : { outputDirectory: value };
}

/** Empty: automatic; `default`: podman's as configured; anything else a directory (relative to the workspace). */
export function parseContainerStorage(value: string | undefined): ContainerStorageRequest {
  if (value === undefined || value === "auto") return { kind: "auto" };
  if (value === "default") return { kind: "default" };
  return { kind: "path", path: resolve(value) };
}

function mapped<T>(fn: () => T, map: (error: unknown) => InputError | undefined): T {
  try {
    return fn();
  } catch (error) {
    throw map(error) ?? error;
  }
}

function readConfig(raw: string): string {
  // Inline text holds a newline or starts a table/object; anything else is a path.
  if (/\n/.test(raw) || /^\s*[[{]/.test(raw) || /^\s*[A-Za-z_"]+\s*=/.test(raw)) return raw;
  try {
    return readFileSync(raw, "utf8");
  } catch {
    throw new InputError(
      "config",
      `'${raw.slice(0, 120)}' is no readable file`,
      "inline TOML/JSON or a path to a .toml or .json file",
    );
  }
}

const AMI_INPUTS = { name: "aws-ami-name", bucket: "aws-bucket", region: "aws-region" } as const;

/** All three AWS inputs or none, only for a builder that uploads and with the ami type among the types. */
function parseAmiUpload(get: InputGetter, builder: EntryBuilder, types: string[]): AmiUpload | undefined {
  const values = Object.fromEntries(
    Object.entries(AMI_INPUTS).map(([field, input]) => [field, getOptionalString(get, input)]),
  ) as Record<keyof AmiUpload, string | undefined>;
  const fields = Object.keys(AMI_INPUTS) as (keyof AmiUpload)[];
  const given = fields.filter((f) => values[f] !== undefined);
  if (given.length === 0) return undefined;
  const all = "aws-ami-name, aws-bucket and aws-region together";
  if (builder === "mkosi" || builder === "qemu-img")
    throw new InputError(
      AMI_INPUTS[given[0]!],
      `${builder} uploads no AMI`,
      `${all}, with builder image-builder or bootc-image-builder`,
    );
  const missing = fields.find((f) => values[f] === undefined);
  if (missing)
    throw new InputError(
      AMI_INPUTS[missing],
      `is empty while ${given.map((f) => AMI_INPUTS[f]).join(" and ")} ${given.length === 1 ? "is" : "are"} set`,
      all,
    );
  return mapped(
    () => checkAmiUpload(values as AmiUpload, types),
    (e) =>
      e instanceof AmiUploadError
        ? e.field === "types"
          ? new InputError("types", e.message, "types including ami when aws-ami-name is set")
          : new InputError(AMI_INPUTS[e.field], e.message, amiAccepted(e.field))
        : undefined,
  );
}

function parsePartSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_ARTIFACT_PART_SIZE;
  return mapped(
    () => parseByteSize(raw),
    (e) =>
      e instanceof ByteSizeError
        ? new InputError(
            "artifact-part-size",
            e.message,
            "bytes or a size such as 500M or 2G; 0 never splits",
          )
        : undefined,
  );
}

const withPush = (push: DiskPushInputs | undefined) => (push ? { push } : {});

export function parseInputs(get: InputGetter): DiskImageInputs {
  const builder = getEnum(get, "builder", ENTRY_BUILDERS, "image-builder");
  const types = mapped(
    () => validateTypes(builder, getList(get, "types").length ? getList(get, "types") : ["qcow2"]),
    (e) =>
      e instanceof DiskTypeError ? new InputError("types", e.message, acceptedTypes(builder)) : undefined,
  );
  const image = getOptionalString(get, "image");
  const sourceDisk = getOptionalString(get, "source-disk");
  if (builder === "qemu-img") {
    if (!sourceDisk)
      throw new InputError("source-disk", "is empty", "the path of a raw disk, with builder: qemu-img");
  } else if (builder !== "mkosi") {
    if (!image)
      throw new InputError("image", "is empty", `the bootc image to build from, with builder: ${builder}`);
    try {
      parseReference(image);
    } catch (error) {
      throw new InputError(
        "image",
        error instanceof Error ? error.message : String(error),
        "an image reference such as ghcr.io/acme/os@sha256:…",
      );
    }
  }
  const rawConfig = getOptionalString(get, "config");
  if (rawConfig && !takesConfig(builder))
    throw new InputError(
      "config",
      `${builder} reads no builder config`,
      "config with image-builder or bootc-image-builder",
    );
  const config = rawConfig
    ? mapped(
        () => parseConfig(readConfig(rawConfig)),
        (e) =>
          e instanceof DiskConfigError
            ? new InputError("config", e.message, "the builders' TOML or JSON config (customizations.*)")
            : undefined,
      )
    : undefined;
  const archInput = getOptionalString(get, "target-arch");
  const arch = archInput === undefined ? hostArch() : normalizeArch(archInput);
  if (!arch)
    throw new InputError(
      "target-arch",
      `'${(archInput ?? process.arch).slice(0, 20)}' is not an architecture this builds`,
      ARCHES.join(", "),
    );
  const defaultImage = builder === "qemu-img" || builder === "mkosi" ? "" : DEFAULT_BUILDER_IMAGES[builder];
  const builderImage = getOptionalString(get, "builder-image") ?? defaultImage;
  if (builder !== "qemu-img" && builder !== "mkosi")
    mapped(
      () => assertPinned(builderImage),
      (e) =>
        e instanceof BuilderImageError
          ? new InputError("builder-image", e.message, "an image pinned by digest: name@sha256:<64 hex>")
          : undefined,
    );
  const buildRef = getOptionalString(get, "build-ref");
  const installerPayloadRef = getOptionalString(get, "installer-payload-ref");
  if (builder !== "image-builder") {
    if (buildRef)
      throw new InputError(
        "build-ref",
        `${builder} takes no build image`,
        "build-ref with builder: image-builder",
      );
    if (installerPayloadRef)
      throw new InputError(
        "installer-payload-ref",
        `${builder} takes no installer payload`,
        "installer-payload-ref with builder: image-builder",
      );
  }
  const bootExpect = mapped(
    () => compileExpect(getOptionalString(get, "boot-expect")),
    (e) =>
      e instanceof BootExpectError
        ? new InputError(
            "boot-expect",
            e.message,
            "a JavaScript regular expression matched against each console line",
          )
        : undefined,
  );
  const bootTest = getBoolean(get, "boot-test", false);
  const bootCommands = mapped(
    () => checkBootCommands(getList(get, "boot-commands", { comma: false })),
    (e) =>
      e instanceof BootCommandError
        ? new InputError("boot-commands", e.message, "one shell command per line")
        : undefined,
  );
  if (bootCommands.length > 0 && !bootTest)
    throw new InputError(
      "boot-commands",
      `${bootCommands.length} command(s) given but boot-test is off: nothing boots to run them`,
      "boot-commands together with boot-test: true",
    );
  const artifactName = getOptionalString(get, "artifact-name") ?? "disk-image";
  if (/[\\/":<>|*?\r\n]/.test(artifactName))
    throw new InputError(
      "artifact-name",
      `'${artifactName.slice(0, 60)}' holds a character artifacts refuse`,
      'a name without \\ / " : < > | * ?',
    );
  const name = getOptionalString(get, "name") ?? "disk";
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new InputError(
      "name",
      `'${name.slice(0, 60)}' cannot be a file name`,
      "letters, digits, '.', '_' and '-'",
    );
  const amiUpload = parseAmiUpload(get, builder, types);
  const publicKey = getOptionalString(get, "public-key");
  const rootfs = getOptionalString(get, "rootfs");
  return {
    builder,
    ...(image !== undefined && builder !== "qemu-img" && builder !== "mkosi" ? { image } : {}),
    ...(publicKey !== undefined ? { publicKey } : {}),
    ...(sourceDisk !== undefined && builder === "qemu-img" ? { sourceDisk } : {}),
    ...(builder === "mkosi" ? { mkosi: parseMkosiInputs(get) } : {}),
    types,
    ...(config ? { config } : {}),
    arch,
    builderImage,
    ...(buildRef ? { buildRef } : {}),
    ...(installerPayloadRef ? { installerPayloadRef } : {}),
    ...(rootfs ? { rootfs } : {}),
    builderArgs: getList(get, "builder-args"),
    bootTest,
    bootTimeoutSeconds: getInteger(get, "boot-timeout", { min: 10, max: 7200, default: 600 }),
    bootExpect,
    bootCommands,
    ...withOutputDirectory(getOptionalString(get, "output-directory")),
    containerStorage: parseContainerStorage(getOptionalString(get, "container-storage")),
    name,
    upload: getBoolean(get, "upload", true),
    artifactName,
    artifactPartSize: parsePartSize(getOptionalString(get, "artifact-part-size")),
    ...(amiUpload ? { amiUpload } : {}),
    ...withPush(parsePushInputs(get)),
  };
}
