import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "@frostyard/kit";
import { walk } from "./fs-walk";
import { formatItems, type NativeCheck } from "./native-bootc";

/** os-release / extension-release text → its keys (quotes and backslash escapes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2] ?? "";
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = (quoted[2] ?? "").replace(/\\(.)/g, "$1");
    out[match[1] ?? ""] = value;
  }
  return out;
}

/**
 * Whether an extension-release matches the base's os-release, the way systemd-sysext decides:
 * ID must match (or be `_any`); then SYSEXT_LEVEL when both have one, otherwise VERSION_ID.
 * Returns the problem, or undefined when it matches. Without a base only the keys' presence is checked.
 */
export function extensionReleaseProblem(
  extension: Record<string, string>,
  base: Record<string, string> | undefined,
): string | undefined {
  const id = extension.ID;
  if (!id) return "extension-release has no ID=";
  if (id === "_any") return undefined;
  if (!extension.SYSEXT_LEVEL && !extension.VERSION_ID)
    return "extension-release has neither SYSEXT_LEVEL= nor VERSION_ID=";
  if (!base) return undefined;
  if (base.ID !== id)
    return `extension-release ID=${id} does not match the base's ID=${base.ID ?? "(unset)"}`;
  if (extension.SYSEXT_LEVEL && base.SYSEXT_LEVEL) {
    return extension.SYSEXT_LEVEL === base.SYSEXT_LEVEL
      ? undefined
      : `extension-release SYSEXT_LEVEL=${extension.SYSEXT_LEVEL} does not match the base's SYSEXT_LEVEL=${base.SYSEXT_LEVEL}`;
  }
  if (!extension.VERSION_ID)
    return `extension-release has no VERSION_ID= and the base has no SYSEXT_LEVEL= to match`;
  return extension.VERSION_ID === base.VERSION_ID
    ? undefined
    : `extension-release VERSION_ID=${extension.VERSION_ID} does not match the base's VERSION_ID=${base.VERSION_ID ?? "(unset)"}`;
}

export interface SysextOptions {
  /** The extension's name: its release file is usr/lib/extension-release.d/extension-release.<name>. */
  name?: string;
  /** The base's os-release keys, to match ID and SYSEXT_LEVEL / VERSION_ID against. */
  base?: Record<string, string>;
  /** Paths (relative to the extension root, with or without a leading "/") that must exist. */
  requiredPaths?: readonly string[];
}

const RELEASE_DIR = "usr/lib/extension-release.d";

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function releaseFiles(root: string): Promise<string[]> {
  try {
    return (await readdir(join(root, RELEASE_DIR))).filter((n) => n.startsWith("extension-release.")).sort();
  } catch {
    return [];
  }
}

const SECRET_NAMES = [/^g?shadow-?$/, /^ssh_host_.*_key$/, /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/];
const KEY_FILE = /\.(pem|key)$/;

export function sysextChecks(options: SysextOptions): Record<string, NativeCheck> {
  return {
    "sysext-layout": async (root) => {
      const outside = (await readdir(root)).filter((n) => n !== "usr" && n !== "opt").sort();
      return (
        formatItems(
          "Found top-level entries outside /usr and /opt",
          outside.map((n) => `/${n}`),
        ) || undefined
      );
    },
    "sysext-release": async (root) => {
      const files = await releaseFiles(root);
      const expected = options.name ? `extension-release.${options.name}` : undefined;
      if (expected && !files.includes(expected)) {
        return `Missing /${RELEASE_DIR}/${expected}${files.length > 0 ? ` (found ${files.join(", ")})` : ""}`;
      }
      if (!expected && files.length !== 1) {
        return files.length === 0
          ? `Missing /${RELEASE_DIR}/extension-release.<name>`
          : formatItems(`Found ${files.length} extension-release files where one belongs`, files);
      }
      const file = expected ?? files[0] ?? "";
      const problem = extensionReleaseProblem(
        parseOsRelease(await readFile(join(root, RELEASE_DIR, file), "utf8")),
        options.base,
      );
      return problem ? `/${RELEASE_DIR}/${file}: ${problem}` : undefined;
    },
    "sysext-secrets": async (root) => {
      const found: string[] = [];
      const keyFiles: { path: string; raw: Buffer }[] = [];
      await walk(root, (entry) => {
        if (entry.type !== "file" && entry.type !== "symlink") return;
        const name = entry.name.toString("utf8");
        if (SECRET_NAMES.some((re) => re.test(name))) found.push(entry.path);
        else if (entry.type === "file" && KEY_FILE.test(name)) keyFiles.push(entry);
      });
      for (const file of keyFiles) {
        // A PEM private key is small; a large .pem is a certificate bundle, not worth reading whole.
        if ((await lstat(file.raw)).size > 64 * 1024) continue;
        if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(await readFile(file.raw, "latin1")))
          found.push(file.path);
      }
      return formatItems("Found secrets that must not ship in an extension", found.sort()) || undefined;
    },
    "sysext-required-paths": async (root) => {
      const missing: string[] = [];
      for (const path of options.requiredPaths ?? []) {
        const relative = path.replace(/^\/+/, "");
        if (!(await exists(join(root, relative)))) missing.push(`/${relative}`);
      }
      return formatItems("Missing required paths", missing) || undefined;
    },
    "sysext-nonempty": async (root) => {
      let content = false;
      for (const top of ["usr", "opt"]) {
        if (content || !(await exists(join(root, top)))) continue;
        await walk(
          root,
          (entry) => {
            if (entry.type === "dir" || entry.parent === RELEASE_DIR) return true;
            content = true;
            return false;
          },
          { start: top },
        );
      }
      return content ? undefined : "The extension holds nothing besides its extension-release";
    },
  };
}

/**
 * Reads a base's os-release: the file itself, or from a root filesystem directory
 * (usr/lib/os-release, then etc/os-release). A missing one is an InputError naming `input`.
 */
export async function loadOsRelease(path: string, input: string): Promise<Record<string, string>> {
  const candidates = [join(path, "usr/lib/os-release"), join(path, "etc/os-release"), path];
  for (const candidate of candidates) {
    try {
      if (!(await lstat(candidate)).isDirectory()) return parseOsRelease(await readFile(candidate, "utf8"));
    } catch {
      // try the next place
    }
  }
  throw new InputError(
    input,
    `no os-release found at '${path}'`,
    "an os-release file or a root filesystem holding usr/lib/os-release",
  );
}
