/**
 * File names systemd-sysupdate can match: `<name>_<version>_<os-version>_<arch>.raw`. `_` separates the
 * fields, so no field may hold one; a Debian epoch's `:` is written `+` (a `:` in a URL path or a
 * MatchPattern= is trouble, and `+` cannot start a Debian version, so nothing is ambiguous).
 */

export class SysextNameError extends Error {
  constructor(
    readonly field: "name" | "version" | "os-version" | "architecture" | "revision",
    readonly value: string,
    readonly problem: string,
  ) {
    super(`sysext ${field} '${value.slice(0, 80)}' ${problem}`);
    this.name = "SysextNameError";
  }
}

/** Architecture names as systemd spells them (ConditionArchitecture=, os-release ARCHITECTURE=). */
const SYSTEMD_ARCHITECTURES: Readonly<Record<string, string>> = {
  "x86-64": "x86-64",
  x86_64: "x86-64",
  amd64: "x86-64",
  x86: "x86",
  i386: "x86",
  i686: "x86",
  arm64: "arm64",
  aarch64: "arm64",
  arm: "arm",
  armhf: "arm",
  riscv64: "riscv64",
  "ppc64-le": "ppc64-le",
  ppc64el: "ppc64-le",
  ppc64le: "ppc64-le",
  s390x: "s390x",
  loongarch64: "loongarch64",
  loong64: "loongarch64",
};

/** mkosi's, Debian's or the kernel's name for an architecture → systemd's (`amd64` → `x86-64`). */
export function systemdArchitecture(name: string): string {
  const arch = SYSTEMD_ARCHITECTURES[name.toLowerCase()];
  if (!arch)
    throw new SysextNameError(
      "architecture",
      name,
      `is not one systemd knows; known: ${[...new Set(Object.values(SYSTEMD_ARCHITECTURES))].join(", ")}`,
    );
  return arch;
}

/** A version as a file name field: the epoch's `:` → `+` (`5:29.3.0` → `5+29.3.0`). */
export function fileVersion(version: string): string {
  return version.replace(/:/g, "+");
}

/** Characters a field may hold: what Debian versions, image versions and sysupdate's `@v` all accept. */
const FIELD = /^[A-Za-z0-9][A-Za-z0-9.+~-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9.+-]*$/;

export interface SysextFileFields {
  /** The extension's name (its extension-release.<name>). */
  name: string;
  /** The key package's version (epoch allowed) or the image version. */
  version: string;
  /** The base's VERSION_ID (e.g. "13"). */
  osVersion: string;
  /** Any spelling systemdArchitecture knows. */
  architecture: string;
  /** Appended to the version as `-<revision>` (a rebuild of the same package version). */
  revision?: string;
}

function checkField(field: SysextNameError["field"], value: string, pattern: RegExp): string {
  if (!pattern.test(value))
    throw new SysextNameError(
      field,
      value,
      "is not usable in a file name: letters, digits, '.', '+', '~' and '-' (no '_', '/' or spaces), starting with a letter or digit",
    );
  return value;
}

/** The version field as it appears in the file name: epoch written with `+`, revision appended. */
export function versionField(version: string, revision?: string): string {
  const v = checkField("version", fileVersion(version), FIELD);
  if (revision === undefined || revision === "") return v;
  return `${v}-${checkField("revision", revision, FIELD)}`;
}

/** `<name>_<version>_<os-version>_<arch>.raw`, each field checked. */
export function sysextFileName(fields: SysextFileFields): string {
  const name = checkField("name", fields.name, NAME);
  const version = versionField(fields.version, fields.revision);
  const osVersion = checkField("os-version", fields.osVersion, FIELD);
  return `${name}_${version}_${osVersion}_${systemdArchitecture(fields.architecture)}.raw`;
}

/** The stable name beside the versioned file (what a host symlinks to; systemd-sysext reads `<name>.raw`). */
export function stableFileName(name: string): string {
  return `${checkField("name", name, NAME)}.raw`;
}

/** The sysupdate MatchPattern= for an extension's files: the file name with `@v` for the version. */
export function matchPattern(name: string, osVersion: string, architecture: string): string {
  return `${checkField("name", name, NAME)}_@v_${checkField("os-version", osVersion, FIELD)}_${systemdArchitecture(architecture)}.raw`;
}

export interface ParsedSysextName {
  name: string;
  version: string;
  osVersion: string;
  architecture: string;
  /** ".raw", ".raw.zst", ".raw.xz". */
  suffix: string;
}

/** A file name this package wrote → its fields; undefined for anything else (e.g. a stable name). */
export function parseSysextFileName(file: string): ParsedSysextName | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9.+-]*)_([^_/]+)_([^_/]+)_([^_/]+?)(\.raw(?:\.zst|\.xz)?)$/.exec(file);
  if (!match) return undefined;
  return {
    name: match[1]!,
    version: match[2]!,
    osVersion: match[3]!,
    architecture: match[4]!,
    suffix: match[5]!,
  };
}
