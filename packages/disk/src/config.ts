import { parseToml, renderToml, TomlError, type TomlTable, type TomlValue } from "./toml";
import type { Builder } from "./types";

/** A config the builders would refuse or misread, named by its path in the config (`customizations.user[0]`). */
export class DiskConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = "DiskConfigError";
  }
}

type Check = (value: TomlValue, path: string) => void;

const fail = (path: string, problem: string): never => {
  throw new DiskConfigError(path, problem);
};
const kind = (v: TomlValue) =>
  Array.isArray(v) ? "an array" : typeof v === "object" ? "a table" : `a ${typeof v}`;

const str: Check = (v, p) => {
  if (typeof v !== "string") fail(p, `is ${kind(v)}, not a string`);
};
const bool: Check = (v, p) => {
  if (typeof v !== "boolean") fail(p, `is ${kind(v)}, not true or false`);
};
const int: Check = (v, p) => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(p, "is not a whole number");
};
const strings: Check = (v, p) => {
  if (!Array.isArray(v)) return fail(p, `is ${kind(v)}, not a list of strings`);
  v.forEach((x, n) => str(x, `${p}[${n}]`));
};
const absolutePath: Check = (v, p) => {
  str(v, p);
  if (!(v as string).startsWith("/")) fail(p, `'${v as string}' is not an absolute path`);
};
const SIZE = /^\d+(\.\d+)?\s*(B|[KMGT]i?B)?$/i;
const size: Check = (v, p) => {
  if (typeof v === "number") return int(v, p);
  str(v, p);
  if (!SIZE.test(v as string)) fail(p, `'${v as string}' is not a size such as "10 GiB" or 10737418240`);
};

function table(fields: Record<string, Check>, required: readonly string[] = []): Check {
  return (v, p) => {
    if (typeof v !== "object" || Array.isArray(v)) return fail(p, `is ${kind(v)}, not a table`);
    for (const name of required) if (!(name in v)) fail(p, `has no ${name}`);
    for (const [k, x] of Object.entries(v)) {
      const check = fields[k];
      if (!check) fail(p ? `${p}.${k}` : k, `is not a setting (known: ${Object.keys(fields).join(", ")})`);
      check!(x, p ? `${p}.${k}` : k);
    }
  };
}

const anyTable: Check = (v, p) => {
  if (typeof v !== "object" || Array.isArray(v)) fail(p, `is ${kind(v)}, not a table`);
};

function list(item: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return fail(p, `is ${kind(v)}, not a list`);
    v.forEach((x, n) => item(x, `${p}[${n}]`));
  };
}

const USER_NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;
const userName: Check = (v, p) => {
  str(v, p);
  if (!USER_NAME.test(v as string) || (v as string).length > 32)
    fail(p, `'${v as string}' is not a user name`);
};

const user = table(
  {
    name: userName,
    description: str,
    password: str,
    key: str,
    home: absolutePath,
    shell: absolutePath,
    groups: strings,
    uid: int,
    gid: int,
    expiredate: int,
  },
  ["name"],
);
const filesystem = table({ mountpoint: absolutePath, minsize: size }, ["mountpoint", "minsize"]);

/** The customizations both builders document for bootc images (blueprint names). */
const customizations = table({
  hostname: str,
  kernel: table({ append: str, name: str }),
  user: list(user),
  group: list(table({ name: userName, gid: int }, ["name"])),
  sshkey: list(table({ user: userName, key: str }, ["user", "key"])),
  filesystem: list(filesystem),
  // Partition tables have many shapes (plain, lvm, btrfs): each builder checks their fields itself.
  disk: table({ minsize: size, type: str, partitions: list(anyTable) }),
  timezone: table({ timezone: str, ntpservers: strings }),
  locale: table({ languages: strings, keyboard: str }),
  services: table({ enabled: strings, disabled: strings, masked: strings }),
  firewall: table({ ports: strings, services: table({ enabled: strings, disabled: strings }) }),
  directories: list(
    table({ path: absolutePath, user: str, group: str, mode: str, ensure_parents: bool }, ["path"]),
  ),
  files: list(table({ path: absolutePath, user: str, group: str, mode: str, data: str }, ["path"])),
  installer: table({
    unattended: bool,
    "sudo-nopasswd": strings,
    kickstart: table({ contents: str }, ["contents"]),
    modules: table({ enable: strings, disable: strings }),
  }),
  iso: table({
    // ISO 9660 volume identifiers are at most 32 characters; longer ones fail late, in xorriso.
    volume_id: (v, p) => {
      str(v, p);
      if ((v as string).length > 32)
        fail(p, `is ${(v as string).length} characters; an ISO volume id holds 32`);
    },
    application_id: str,
    publisher: str,
  }),
  fips: bool,
});

const topLevel = table({ name: str, description: str, version: str, customizations });

/** Relations between settings the builders refuse only after minutes of work. */
function crossChecks(config: TomlTable): void {
  const c = config.customizations as TomlTable | undefined;
  if (!c) return;
  const installer = c.installer as TomlTable | undefined;
  if (installer?.kickstart && (c.user || c.group))
    fail(
      "customizations.installer.kickstart",
      "cannot be combined with customizations.user or customizations.group (put users in the kickstart)",
    );
  const fs = (c.filesystem as TomlTable[] | undefined) ?? [];
  const seen = new Set<string>();
  fs.forEach((f, n) => {
    const mount = f.mountpoint as string;
    if (seen.has(mount)) fail(`customizations.filesystem[${n}].mountpoint`, `'${mount}' is listed twice`);
    seen.add(mount);
  });
  const modules = installer?.modules as TomlTable | undefined;
  const enabled = new Set((modules?.enable as string[] | undefined) ?? []);
  for (const m of (modules?.disable as string[] | undefined) ?? [])
    if (enabled.has(m)) fail("customizations.installer.modules", `'${m}' is both enabled and disabled`);
}

export type ConfigFormat = "toml" | "json";

/** The config's text as TOML or JSON (JSON when it starts with '{'), validated. */
export function parseConfig(text: string, format?: ConfigFormat): TomlTable {
  const asJson = format ? format === "json" : text.trimStart().startsWith("{");
  let config: TomlTable;
  try {
    config = asJson ? (JSON.parse(text) as TomlTable) : parseToml(text);
  } catch (error) {
    const reason = error instanceof TomlError || error instanceof SyntaxError ? error.message : String(error);
    throw new DiskConfigError("", `not valid ${asJson ? "JSON" : "TOML"}: ${reason}`);
  }
  if (asJson && (typeof config !== "object" || config === null || Array.isArray(config)))
    fail("", "is not a JSON object");
  if (asJson) rejectNulls(config, "");
  topLevel(config, "");
  crossChecks(config);
  return config;
}

function rejectNulls(v: unknown, p: string): void {
  if (v === null) fail(p, "is null; leave it out instead");
  if (typeof v === "object")
    for (const [k, x] of Object.entries(v as object)) rejectNulls(x, p ? `${p}.${k}` : k);
}

/** Which builders read a config at all. */
export function takesConfig(builder: Builder): boolean {
  return builder === "image-builder" || builder === "bootc-image-builder";
}

/**
 * The file each builder reads: both take TOML (bootc-image-builder as /config.toml, image-builder as a
 * --blueprint with a .toml name), so one rendering serves both.
 */
export function renderConfig(config: TomlTable): { fileName: string; content: string } {
  return { fileName: "config.toml", content: renderToml(config) };
}
