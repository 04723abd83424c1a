import { extensionReleaseProblem, parseOsRelease } from "@frostyard/lint-bootc";
import type { MtreeEntry } from "./mtree";
import { systemdArchitecture } from "./naming";

/** One reason an extension must not ship; `path` (absolute, inside the image) when one file is to blame. */
export interface SysextFinding {
  check: "layout" | "extension-release" | "required-path" | "empty" | "secret";
  path?: string;
  message: string;
}

export interface SysextCheckOptions {
  /** The extension's name: the release file must be extension-release.<name>. */
  name: string;
  /** The base's os-release keys (ID, VERSION_ID, SYSEXT_LEVEL). */
  base: Record<string, string>;
  /** The base's architecture, any spelling systemdArchitecture knows. */
  architecture: string;
  /** Paths that must exist in the image, with or without a leading "/". */
  requiredPaths?: readonly string[];
}

export const RELEASE_DIR = "usr/lib/extension-release.d";
export const releasePath = (name: string) => `${RELEASE_DIR}/extension-release.${name}`;

/** Files up to this size are read for key headers and token patterns; keys and credential files are small. */
export const CONTENT_SCAN_LIMIT = 64 * 1024;
/** Documentation ships example keys and tokens on purpose; it is not read for content. */
const NOT_SCANNED = /^usr\/share\/(doc|man|info|locale)\//;

const SECRET_NAMES: readonly [RegExp, string][] = [
  [/^g?shadow-?$/, "a shadow password database"],
  [/^opasswd$/, "old passwords (pam_pwhistory)"],
  [/^ssh_host_[^/]*_key$/, "an SSH host private key"],
  [/^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/, "an SSH private key"],
  [/^machine-id$/, "a machine-id (every host would share it)"],
  [/^random-seed$/, "a random seed (every host would share it)"],
  [/^\.(netrc|pgpass|git-credentials)$/, "a credentials file"],
];
const SECRET_PATHS: readonly [RegExp, string][] = [
  [/(^|\/)\.aws\/credentials$/, "AWS credentials"],
  [/(^|\/)\.docker\/config\.json$/, "registry credentials"],
  [/(^|\/)\.config\/containers\/auth\.json$/, "registry credentials"],
];
const SECRET_CONTENT: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/, "a PEM private key"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, "a GitLab token"],
  [/\baws_secret_access_key\s*=\s*\S{20,}/i, "an AWS secret access key"],
];

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const absolute = (path: string) => `/${path}`;
const normalise = (path: string) => path.replace(/^\/+/, "").replace(/\/+$/, "");

/**
 * Which files the checks need the bytes of: the extension-release and every small regular file outside
 * the documentation (for key headers and tokens). The image reader reads exactly these.
 */
export function filesToRead(entries: readonly MtreeEntry[], name: string): string[] {
  const wanted = new Set<string>([releasePath(name)]);
  for (const entry of entries) {
    if (entry.type !== "file" || NOT_SCANNED.test(entry.path)) continue;
    if ((entry.size ?? 0) > 0 && (entry.size ?? 0) <= CONTENT_SCAN_LIMIT) wanted.add(entry.path);
  }
  return [...wanted].filter((path) => entries.some((e) => e.path === path && e.type === "file"));
}

function layoutFindings(entries: readonly MtreeEntry[]): SysextFinding[] {
  const tops = new Set<string>();
  for (const entry of entries) {
    const top = entry.path.split("/")[0] ?? "";
    if (top !== "" && top !== "usr" && top !== "opt") tops.add(top);
  }
  return [...tops].sort().map((top) => ({
    check: "layout",
    path: absolute(top),
    message: `${absolute(top)} is outside /usr and /opt; systemd-sysext merges only those`,
  }));
}

function releaseFindings(
  entries: readonly MtreeEntry[],
  files: ReadonlyMap<string, Buffer>,
  options: SysextCheckOptions,
): SysextFinding[] {
  const expected = releasePath(options.name);
  const found = entries
    .filter((e) => e.path.startsWith(`${RELEASE_DIR}/`) && e.type === "file")
    .map((e) => absolute(e.path));
  const content = files.get(expected);
  if (!content) {
    return [
      {
        check: "extension-release",
        path: absolute(expected),
        message: `${absolute(expected)} is missing${found.length > 0 ? ` (found ${found.join(", ")}: the name must be the extension's)` : ""}`,
      },
    ];
  }
  const release = parseOsRelease(content.toString("utf8"));
  const findings: SysextFinding[] = [];
  const problem = extensionReleaseProblem(release, options.base);
  if (problem)
    findings.push({
      check: "extension-release",
      path: absolute(expected),
      message: `${absolute(expected)}: ${problem}`,
    });
  if (release.ARCHITECTURE !== undefined && release.ARCHITECTURE !== "") {
    const want = systemdArchitecture(options.architecture);
    let have: string;
    try {
      have = systemdArchitecture(release.ARCHITECTURE);
    } catch {
      have = release.ARCHITECTURE;
    }
    if (have !== want)
      findings.push({
        check: "extension-release",
        path: absolute(expected),
        message: `${absolute(expected)}: ARCHITECTURE=${release.ARCHITECTURE} does not match the base's ${want}`,
      });
  }
  return findings;
}

function requiredFindings(entries: readonly MtreeEntry[], required: readonly string[]): SysextFinding[] {
  const present = new Set(entries.map((e) => e.path));
  return required
    .map(normalise)
    .filter((path) => path !== "" && !present.has(path))
    .map((path) => ({
      check: "required-path",
      path: absolute(path),
      message: `${absolute(path)} is required but not in the image`,
    }));
}

function emptyFindings(entries: readonly MtreeEntry[]): SysextFinding[] {
  const payload = entries.some((e) => e.type !== "dir" && !e.path.startsWith(`${RELEASE_DIR}/`));
  return payload
    ? []
    : [{ check: "empty", message: "the extension holds nothing besides its extension-release" }];
}

function secretFindings(entries: readonly MtreeEntry[], files: ReadonlyMap<string, Buffer>): SysextFinding[] {
  const findings: SysextFinding[] = [];
  const gitDirs = new Set<string>();
  for (const entry of entries) {
    const git = /(^|\/)\.git(\/|$)/.exec(entry.path);
    if (git) {
      gitDirs.add(entry.path.slice(0, git.index + git[0].replace(/\/$/, "").length));
      continue;
    }
    if (entry.type === "dir") continue;
    const name = basename(entry.path);
    const byName =
      SECRET_NAMES.find(([re]) => re.test(name)) ?? SECRET_PATHS.find(([re]) => re.test(entry.path));
    if (byName) {
      findings.push({
        check: "secret",
        path: absolute(entry.path),
        message: `${absolute(entry.path)}: ${byName[1]}`,
      });
      continue;
    }
    const content = files.get(entry.path);
    if (!content) continue;
    const text = content.toString("latin1");
    const byContent = SECRET_CONTENT.find(([re]) => re.test(text));
    if (byContent)
      findings.push({
        check: "secret",
        path: absolute(entry.path),
        message: `${absolute(entry.path)}: holds ${byContent[1]}`,
      });
  }
  for (const dir of [...gitDirs].sort())
    findings.push({
      check: "secret",
      path: absolute(dir),
      message: `${absolute(dir)}: a .git directory (history, remotes, maybe credentials)`,
    });
  return findings;
}

/**
 * Everything that keeps an extension from shipping, from the image's own listing and the bytes of
 * `filesToRead`: contents outside /usr and /opt, a missing or mismatched extension-release, missing
 * required paths, no payload, secrets. Empty: it may ship.
 */
export function checkSysext(
  entries: readonly MtreeEntry[],
  files: ReadonlyMap<string, Buffer>,
  options: SysextCheckOptions,
): SysextFinding[] {
  return [
    ...layoutFindings(entries),
    ...releaseFindings(entries, files, options),
    ...requiredFindings(entries, options.requiredPaths ?? []),
    ...emptyFindings(entries),
    ...secretFindings(entries, files),
  ];
}

/** `required-paths.txt`: one path a line, `#` comments and blank lines ignored. */
export function parseRequiredPaths(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
}

/** The error a failed check becomes: every finding of every extension, each naming its file. */
export class SysextCheckError extends Error {
  constructor(
    readonly failures: readonly { name: string; file: string; findings: readonly SysextFinding[] }[],
  ) {
    super(
      `${failures.length} extension(s) failed the checks, nothing was published:\n` +
        failures
          .map(
            (f) =>
              `${f.name} (${f.file}):\n${f.findings.map((x) => `  - [${x.check}] ${x.message}`).join("\n")}`,
          )
          .join("\n"),
    );
    this.name = "SysextCheckError";
  }
}
