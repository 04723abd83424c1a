import {
  getBoolean,
  getEnum,
  getInteger,
  getKeyValues,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import {
  ARCHITECTURE_NAMES,
  buildVariables,
  CACHE_REFRESHES,
  DEFAULT_MKOSI_REF,
  mkosiArchitecture,
  resolveMkosiSource,
  SUDO_MODES,
  validateExtraArgs,
  validateImageVersion,
  validateProfiles,
  type BuildImageOptions,
  type CacheRefresh,
} from "@frostyard/mkosi";
import { parseReference, type ImageReference } from "@frostyard/oci";
import type { PreviousImageChoice } from "@frostyard/publish";
import { parseRegistryLogin } from "../registry-login";
import { parseRepositoryInput } from "../publish-inputs";

export const COMPRESSIONS = ["gzip", "zstd"] as const;

/**
 * Every input of actions/build-mkosi, parsed once: buildImage's options (with the action's defaults filled
 * in) and the publish inputs.
 */
export interface BuildMkosiInputs extends Omit<BuildImageOptions, "package" | "title"> {
  cacheRefresh: CacheRefresh;
  /** Where the image is pushed; it also names the image (its title label) and asks for packaging. */
  image?: ImageReference;
  tags: string[];
  push: boolean;
  registryUsername?: string;
  registryPassword?: string;
  /** Push the version tag even when the registry holds another image under it (default: refuse). */
  overwriteVersion: boolean;
  /** The immutable tag pushed, when it is not the image version (e.g. one platform's `<version>-<arch>`). */
  versionTag?: string;
  /** The image unchanged layers are taken over from and the update cost is measured against. */
  previousImage: PreviousImageChoice;
  /** Packaging inputs given a value (bootable, max-layers, compression): mkosi's Format=oci ignores them. */
  explicitPackagingInputs: string[];
}

/** Inputs whose action.yml default is empty so that setting one can be told from its default. */
const PACKAGING_INPUTS_WITH_DEFAULTS = ["bootable", "max-layers", "compression"] as const;

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** `args` is one line of options as a shell would split it; quotes group, nothing is expanded. */
export function splitArgs(raw: string): string[] {
  const args: string[] = [];
  let current = "";
  let quote: '"' | "'" | undefined;
  let started = false;
  for (const char of raw) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote)
    throw new InputError(
      "args",
      `has an unclosed ${quote} quote`,
      "options separated by spaces, with balanced quotes",
    );
  if (started) args.push(current);
  return args;
}

function parsePreviousImage(raw: string | undefined): PreviousImageChoice {
  if (raw === undefined) return { kind: "auto" };
  if (raw === "none") return { kind: "none" };
  const accepted =
    "empty (the version tag's predecessor or latest when pushing, else the build cache's last image), none, or a reference with a tag or digest such as ghcr.io/acme/os:1.2";
  let ref: ImageReference;
  try {
    ref = parseReference(raw);
  } catch (error) {
    throw new InputError("previous-image", (error as Error).message, accepted);
  }
  if (ref.tag === undefined && ref.digest === undefined)
    throw new InputError("previous-image", `'${raw}' names no tag or digest`, accepted);
  return { kind: "reference", ref };
}

/** mkosi's name for the `architecture` input (an OCI name such as a matrix's `amd64` is accepted too). */
function parseArchitecture(raw: string | undefined): { architecture?: string } {
  if (raw === undefined) return {};
  const architecture = mkosiArchitecture(raw);
  if (architecture === undefined)
    throw new InputError(
      "architecture",
      `'${raw.slice(0, 40)}' is not an architecture mkosi knows`,
      `empty (the project's Architecture=, else the runner's), or one of ${ARCHITECTURE_NAMES.join(", ")}`,
    );
  return { architecture };
}

function optionalVersionTag(raw: string | undefined): { versionTag?: string } {
  return raw === undefined ? {} : { versionTag: validateImageVersion(raw, "version-tag") };
}

function parseImage(raw: string | undefined): ImageReference | undefined {
  if (raw === undefined) return undefined;
  return parseRepositoryInput(
    "image",
    raw,
    "a repository only, such as ghcr.io/acme/os; the image version becomes its tag, and the tags input adds more",
  );
}

export function parseInputs(get: InputGetter): BuildMkosiInputs {
  const imageVersion = getOptionalString(get, "image-version");
  const image = parseImage(getOptionalString(get, "image"));
  const push = getBoolean(get, "push", false);
  if (push && !image)
    throw new InputError(
      "push",
      "is true but 'image' is empty",
      "an image repository to push to, or push: false",
    );
  const tags = getList(get, "tags");
  for (const tag of tags) {
    if (!TAG.test(tag))
      throw new InputError(
        "tags",
        `'${tag.slice(0, 60)}' is not a valid tag`,
        "tags of letters, digits, '_', '.' and '-', at most 128 characters",
      );
  }
  // The image names the registry the login is for.
  const login = parseRegistryLogin(get, { registryImplied: true });
  const sde = getOptionalString(get, "source-date-epoch");
  let sourceDateEpoch: number | undefined;
  if (sde !== undefined) {
    if (!/^\d{1,12}$/.test(sde))
      throw new InputError(
        "source-date-epoch",
        `got '${sde.slice(0, 40)}'`,
        "seconds since 1970-01-01 UTC, e.g. 1735689600",
      );
    sourceDateEpoch = Number(sde);
  }
  const mkosiSha = getOptionalString(get, "mkosi-sha256");
  return {
    directory: getOptionalString(get, "directory") ?? ".",
    profiles: validateProfiles(getList(get, "profiles")),
    ...(imageVersion !== undefined ? { imageVersion: validateImageVersion(imageVersion) } : {}),
    ...parseArchitecture(getOptionalString(get, "architecture")),
    variables: buildVariables(getKeyValues(get, "environment"), getKeyValues(get, "secret-environment")),
    args: validateExtraArgs(splitArgs(get("args"))),
    sudo: getEnum(get, "sudo", SUDO_MODES, "auto"),
    mkosi: resolveMkosiSource(getOptionalString(get, "mkosi-ref") ?? DEFAULT_MKOSI_REF, mkosiSha),
    cache: getBoolean(get, "cache", true),
    cacheRefresh: getEnum(get, "cache-refresh", CACHE_REFRESHES, "weekly"),
    workDirectory: getOptionalString(get, "work-directory"),
    outputDirectory: getOptionalString(get, "output-directory"),
    image,
    tags,
    push,
    labels: getKeyValues(get, "labels"),
    annotations: getKeyValues(get, "annotations"),
    bootable: getBoolean(get, "bootable", true),
    maxLayers: getInteger(get, "max-layers", { min: 1, max: 128, default: 64 }),
    compression: getEnum(get, "compression", COMPRESSIONS, "gzip"),
    ociLayout: getOptionalString(get, "oci-layout"),
    sourceDateEpoch,
    ...login,
    overwriteVersion: getBoolean(get, "overwrite-version", false),
    previousImage: parsePreviousImage(getOptionalString(get, "previous-image")),
    ...optionalVersionTag(getOptionalString(get, "version-tag")),
    explicitPackagingInputs: PACKAGING_INPUTS_WITH_DEFAULTS.filter((name) => get(name).trim() !== ""),
  };
}

/** Values that must never reach a log line, for setSecret and exec redaction (the root action adds its own). */
export function secretValues(inputs: Pick<BuildMkosiInputs, "variables" | "registryPassword">): string[] {
  return [
    ...inputs.variables.filter((v) => v.secret).map((v) => v.value),
    ...(inputs.registryPassword ? [inputs.registryPassword] : []),
  ].filter((v) => v !== "");
}
