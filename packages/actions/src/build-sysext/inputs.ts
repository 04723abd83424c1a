import {
  getBoolean,
  getEnum,
  getInteger,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import type { MkosiBuildOptions } from "@frostyard/mkosi";
import {
  COMPRESSIONS,
  SysupdateConfigError,
  validateBaseUrl,
  validateTargetPath,
  type Compression,
} from "@frostyard/sysext";
import { parseInputs as parseBuildMkosiInputs } from "../build-mkosi/inputs";

/**
 * The build inputs build-sysext shares with build-mkosi, parsed by build-mkosi's own parser (one
 * definition of what each means and of its errors); build-mkosi's packaging and publishing inputs are not
 * this action's, so they reach that parser empty.
 */
export const SHARED_BUILD_INPUTS = [
  "directory",
  "profiles",
  "image-version",
  "environment",
  "secret-environment",
  "args",
  "sudo",
  "mkosi-ref",
  "mkosi-sha256",
  "cache",
  "cache-refresh",
  "work-directory",
  "output-directory",
  "source-date-epoch",
] as const;

export type SharedBuildOptions = Omit<MkosiBuildOptions, "workspace">;

export function parseSharedBuildInputs(get: InputGetter): SharedBuildOptions {
  const shared = new Set<string>(SHARED_BUILD_INPUTS);
  const parsed = parseBuildMkosiInputs((name) => (shared.has(name) ? get(name) : ""));
  return {
    directory: parsed.directory,
    profiles: parsed.profiles,
    ...(parsed.imageVersion !== undefined ? { imageVersion: parsed.imageVersion } : {}),
    variables: parsed.variables,
    args: parsed.args,
    sudo: parsed.sudo,
    mkosi: parsed.mkosi,
    cache: parsed.cache,
    cacheRefresh: parsed.cacheRefresh,
    workDirectory: parsed.workDirectory,
    outputDirectory: parsed.outputDirectory,
    sourceDateEpoch: parsed.sourceDateEpoch,
  };
}

export interface SysupdateInputs {
  baseUrl: string;
  targetPath: string;
  symlinkDirectory: string;
  instancesMax: number;
  featuresEnabled: boolean;
}

/** Every input of actions/build-sysext, parsed once. */
export interface BuildSysextInputs {
  build: SharedBuildOptions;
  /** Sysext images to publish; empty: every Format=sysext image the build makes. */
  images: string[];
  /** The Format=directory image the extensions extend; undefined: the build's only one. */
  base?: string;
  keyPackage?: string;
  revision?: string;
  requiredPaths: string[];
  compression: Compression;
  /** Where the published set goes; undefined: sysupdate/ in mkosi's output directory. */
  destination?: string;
  sysupdate?: SysupdateInputs;
  previousSha256Sums?: string;
  upload: boolean;
  artifactName: string;
  /** Signs SHA256SUMS when given (a secret). */
  gpgPrivateKey?: string;
  gpgPassphrase: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9.+-]*$/;

function validated<T>(input: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SysupdateConfigError)
      throw new InputError(input, `${error.value.slice(0, 120)}: ${error.problem}`, error.accepted);
    throw error;
  }
}

export function parseInputs(get: InputGetter): BuildSysextInputs {
  const build = parseSharedBuildInputs(get);
  const images = getList(get, "images");
  for (const name of images)
    if (!NAME.test(name))
      throw new InputError(
        "images",
        `'${name.slice(0, 60)}' is not an image name`,
        "names of mkosi.images/ entries, e.g. docker",
      );
  const revision = getOptionalString(get, "revision");
  if (revision !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.+~]*$/.test(revision))
    throw new InputError(
      "revision",
      `'${revision.slice(0, 40)}' cannot go in a file name`,
      "letters, digits, '.', '+' and '~', e.g. 2",
    );
  const keyPackage = getOptionalString(get, "key-package");
  if (keyPackage !== undefined && !/^[a-z0-9][a-z0-9.+-]*$/.test(keyPackage))
    throw new InputError(
      "key-package",
      `'${keyPackage.slice(0, 60)}' is not a package name`,
      "a Debian package name such as docker-ce",
    );
  const baseUrl = getOptionalString(get, "base-url");
  const sysupdate = baseUrl
    ? {
        baseUrl: validated("base-url", () => validateBaseUrl(baseUrl)),
        targetPath: validated("target-path", () =>
          validateTargetPath(getOptionalString(get, "target-path") ?? "/var/lib/extensions.d"),
        ),
        symlinkDirectory: validated("current-symlink-directory", () =>
          validateTargetPath(getOptionalString(get, "current-symlink-directory") ?? "/var/lib/extensions"),
        ),
        instancesMax: getInteger(get, "instances-max", { min: 2, max: 100, default: 2 }),
        featuresEnabled: getBoolean(get, "features-enabled", false),
      }
    : undefined;
  const artifactName = getOptionalString(get, "artifact-name") ?? "sysext";
  if (/[\\/":<>|*?\r\n]/.test(artifactName))
    throw new InputError(
      "artifact-name",
      `'${artifactName.slice(0, 60)}' holds a character artifacts refuse`,
      'a name without \\ / " : < > | * ?',
    );
  const base = getOptionalString(get, "base");
  const destination = getOptionalString(get, "destination");
  const previous = getOptionalString(get, "previous-sha256sums");
  // Not trimmed: a key's armor and a passphrase are taken byte for byte.
  const gpgPrivateKey = get("gpg-private-key").trim() === "" ? undefined : get("gpg-private-key");
  const gpgPassphrase = get("gpg-passphrase");
  if (gpgPassphrase !== "" && gpgPrivateKey === undefined)
    throw new InputError(
      "gpg-passphrase",
      "is set but gpg-private-key is empty",
      "a passphrase together with gpg-private-key",
    );
  return {
    build,
    images,
    ...(base !== undefined ? { base } : {}),
    ...(keyPackage !== undefined ? { keyPackage } : {}),
    ...(revision !== undefined ? { revision } : {}),
    requiredPaths: getList(get, "required-paths"),
    compression: getEnum(get, "compression", COMPRESSIONS, "none"),
    ...(destination !== undefined ? { destination } : {}),
    ...(sysupdate ? { sysupdate } : {}),
    ...(previous !== undefined ? { previousSha256Sums: previous } : {}),
    upload: getBoolean(get, "upload", true),
    artifactName,
    ...(gpgPrivateKey !== undefined ? { gpgPrivateKey } : {}),
    gpgPassphrase,
  };
}

/** Values that must never reach a log line. */
export function secretValues(inputs: BuildSysextInputs): string[] {
  return [
    ...inputs.build.variables.filter((v) => v.secret).map((v) => v.value),
    inputs.gpgPassphrase,
    // Each line too: a runner masks what it is given, and a key's armor is printed line by line.
    ...(inputs.gpgPrivateKey
      ? [inputs.gpgPrivateKey, ...inputs.gpgPrivateKey.split("\n").map((l) => l.trim())]
      : []),
  ].filter((v) => v.length >= 4);
}
