import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import {
  chmod,
  copyFile,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { basename, join, relative } from "node:path";
import * as actionsToolCache from "@actions/tool-cache";
import { InputError } from "./errors";
import type { Logger } from "./log";

export type ToolArch = "x64" | "arm64";
export type ToolArchive = "tar.gz" | "tar.xz" | "zip" | "none";

/** One pinned download of one tool: what to fetch, what its bytes must hash to, and what to take out of it. */
export interface ToolDownload {
  tool: string;
  version: string;
  platform: "linux";
  arch: ToolArch;
  url: string;
  /** Lower-case hex sha256 of the file at `url`, checked before anything is extracted. */
  sha256: string;
  archive: ToolArchive;
  /** Paths inside the archive (for "none", the name the downloaded file is given). */
  binaries: string[];
}

/** The parts of @actions/tool-cache the installer uses; injectable so another cache can stand in. */
export interface ToolCache {
  find(tool: string, version: string, arch?: string): string;
  isExplicitVersion(version: string): boolean;
  downloadTool(url: string): Promise<string>;
  extractTar(file: string, dest?: string, flags?: string | string[]): Promise<string>;
  extractZip(file: string, dest?: string): Promise<string>;
  cacheDir(sourceDir: string, tool: string, version: string, arch?: string): Promise<string>;
}

export interface InstallOptions {
  logger: Logger;
  /** Default: @actions/tool-cache, which keeps tools under RUNNER_TOOL_CACHE and downloads into RUNNER_TEMP. */
  toolCache?: ToolCache;
}

export interface InstalledTool {
  /** The tool's directory in the tool cache. */
  dir: string;
  /** Each binary by its file name → absolute path, e.g. { trivy: "/opt/hostedtoolcache/trivy/0.58.1/x64/trivy" }. */
  binaries: Record<string, string>;
  /** True when it was already in the tool cache and nothing was downloaded. */
  cached: boolean;
}

/** The runner's architecture in the table's terms; anything else is not supported by the pinned tables. */
export function runnerArch(nodeArch: string = process.arch): ToolArch {
  if (nodeArch === "x64" || nodeArch === "arm64") return nodeArch;
  throw new Error(`unsupported architecture '${nodeArch}': pinned tools exist for x64 and arm64 only`);
}

/** "v1.2.3" and "1.2.3" name the same release; tags and tables disagree on the prefix. */
function sameVersion(a: string, b: string): boolean {
  return a.replace(/^v/, "") === b.replace(/^v/, "");
}

/**
 * The table entry for a tool, version and architecture. Versions are exact (a leading `v` is ignored); there is
 * no `latest`. When `input` is given the error is an InputError naming that input, since the version usually
 * comes from one.
 */
export function findDownload(
  table: readonly ToolDownload[],
  tool: string,
  version: string,
  arch: ToolArch,
  input?: string,
): ToolDownload {
  const refuse = (problem: string, accepted: string): never => {
    if (input) throw new InputError(input, problem, accepted);
    throw new Error(`${problem}; expected ${accepted}`);
  };
  const ofTool = table.filter((d) => d.tool === tool && d.platform === "linux");
  if (ofTool.length === 0) {
    const tools = [...new Set(table.map((d) => d.tool))].join(", ") || "none";
    return refuse(`no pinned downloads of '${tool}'`, `one of the tools in the table: ${tools}`);
  }
  const versions = [...new Set(ofTool.map((d) => d.version))].join(", ");
  const wanted = version.trim();
  if (wanted === "" || wanted.toLowerCase() === "latest") {
    return refuse(`${tool} version '${wanted}' is not a pinned version`, `an exact version: ${versions}`);
  }
  const ofVersion = ofTool.filter((d) => sameVersion(d.version, wanted));
  if (ofVersion.length === 0) {
    return refuse(`${tool} ${wanted} is not in the table of pinned downloads`, `one of: ${versions}`);
  }
  const match = ofVersion.find((d) => d.arch === arch);
  if (!match) {
    const arches = ofVersion.map((d) => d.arch).join(", ");
    return refuse(`${tool} ${wanted} has no ${arch} download`, `one of the architectures: ${arches}`);
  }
  return match;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Streams a file through sha256: downloads can be hundreds of MB. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The tool from the tool cache, or downloaded, checked against its sha256 before extraction, extracted and
 * cached. A checksum mismatch deletes the download and caches nothing.
 */
export async function installTool(download: ToolDownload, options: InstallOptions): Promise<InstalledTool> {
  const { logger } = options;
  const toolCache = options.toolCache ?? actionsToolCache;
  const { tool, version, arch, url } = download;
  const expected = download.sha256.toLowerCase();
  if (!SHA256_HEX.test(expected)) {
    throw new Error(
      `the pinned sha256 of ${tool} ${version} (${arch}) is not 64 hex digits: '${download.sha256}'`,
    );
  }
  if (download.binaries.length === 0)
    throw new Error(`the pinned download of ${tool} ${version} lists no binaries`);

  const cachedDir = findCached(toolCache, tool, version, arch);
  if (cachedDir) {
    const found = await locateBinaries(cachedDir, download.binaries, download.archive);
    // The cache may outlive the job and be writable by others (self-hosted runners): what runs next gets the
    // job's secrets, so a cached tree is used only when it still hashes as it did when the pinned download made it.
    const problem =
      found.missing.length > 0
        ? `lacks ${found.missing.join(", ")}`
        : await cacheEntryProblem(cachedDir, expected);
    if (!problem) {
      logger.info(`${tool} ${version} (${arch}) found in the tool cache: ${cachedDir}`);
      return { dir: cachedDir, binaries: found.binaries, cached: true };
    }
    logger.warning(
      `${tool} ${version} in the tool cache ${problem}; discarding it and downloading it again from ${url}`,
    );
    await discardCacheEntry(cachedDir);
  }

  logger.info(`Downloading ${tool} ${version} (${arch}) from ${url}`);
  let file: string;
  try {
    file = await toolCache.downloadTool(url);
  } catch (error) {
    throw new Error(`downloading ${tool} ${version} from ${url} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }

  let extracted: string | undefined;
  try {
    const actual = await sha256File(file);
    if (actual !== expected) {
      throw new Error(
        `checksum mismatch for ${tool} ${version} (${arch}) from ${url}: expected sha256 ${expected}, got ${actual}; ` +
          "the download was deleted and nothing was cached (a changed release asset or a tampered download)",
      );
    }
    logger.info(`sha256 of ${tool} ${version} verified: ${actual}`);
    extracted = await extract(toolCache, file, download);
    const found = await locateBinaries(extracted, download.binaries, download.archive);
    if (found.missing.length > 0) {
      throw new Error(
        `the ${download.archive} download of ${tool} ${version} from ${url} does not contain ${found.missing.join(", ")}`,
      );
    }
    for (const binary of Object.values(found.binaries)) await chmod(binary, 0o755);
    const dir = await toolCache.cacheDir(extracted, tool, version, arch);
    await writeToolCacheRecord(dir, download);
    const installed = await locateBinaries(dir, download.binaries, download.archive);
    logger.info(`${tool} ${version} installed in the tool cache: ${dir}`);
    return { dir, binaries: installed.binaries, cached: false };
  } finally {
    await rm(file, { force: true });
    if (extracted) await rm(extracted, { recursive: true, force: true });
  }
}

/**
 * tool-cache's `find` treats a non-semver version ("25.3", a git ref) as a range and may return another release,
 * or nothing at all; such versions are looked up at their exact directory, where `cacheDir` put them.
 */
function findCached(toolCache: ToolCache, tool: string, version: string, arch: ToolArch): string {
  if (toolCache.isExplicitVersion(version)) return toolCache.find(tool, version, arch);
  const root = process.env.RUNNER_TOOL_CACHE;
  if (!root) return "";
  const dir = join(root, tool, version, arch);
  return existsSync(dir) && existsSync(`${dir}.complete`) ? dir : "";
}

async function extract(toolCache: ToolCache, file: string, download: ToolDownload): Promise<string> {
  switch (download.archive) {
    case "tar.gz":
      return toolCache.extractTar(file, undefined, "xz");
    case "tar.xz":
      return toolCache.extractTar(file, undefined, "xJ");
    case "zip":
      return toolCache.extractZip(file);
    case "none": {
      // A bare binary: give it its name in a directory of its own so the cache holds the same shape as archives.
      const dir = await mkdtemp(join(process.env.RUNNER_TEMP ?? "/tmp", `${download.tool}-`));
      await copyFile(file, join(dir, basename(download.binaries[0]!)));
      return dir;
    }
  }
}

async function locateBinaries(
  dir: string,
  paths: readonly string[],
  archive: ToolArchive,
): Promise<{ binaries: Record<string, string>; missing: string[] }> {
  const binaries: Record<string, string> = {};
  const missing: string[] = [];
  const relative = archive === "none" ? paths.slice(0, 1).map((p) => basename(p)) : paths;
  for (const path of relative) {
    const full = join(dir, path);
    const info = await stat(full).catch(() => undefined);
    if (info?.isFile()) binaries[basename(path)] = full;
    else missing.push(path);
  }
  return { binaries, missing };
}

/**
 * What a cached tool hashed to when it was installed, kept beside its directory (as tool-cache's own
 * `<arch>.complete` marker is): the pinned download's sha256 and every file of the tree by its sha256 (a symlink
 * by its target). It proves the tree is the one the pinned download made, against a tree planted or changed
 * later by someone who cannot also rewrite this record; whoever can write both can plant anything, which only a
 * cache nobody else writes prevents (docs: packages/kit/README.md).
 */
export interface ToolCacheRecord {
  archiveSha256: string;
  files: Record<string, string>;
}

/** Where the record of a cached tool directory lives. */
export function toolCacheRecordPath(dir: string): string {
  return `${dir}.sha256.json`;
}

/**
 * Hashes every file under `dir` but Python's `__pycache__/` (relative paths, forward slashes): `sha256:<hex>`,
 * or `symlink:<target>`.
 */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      const rel = relative(dir, full).split("\\").join("/");
      if (entry.isDirectory()) {
        // Bytecode caches are removed before a hit is checked (removeBytecodeCaches), so never recorded.
        if (entry.name !== "__pycache__") await walk(full);
      } else if (entry.isSymbolicLink()) files[rel] = `symlink:${await readlink(full)}`;
      else if (entry.isFile()) files[rel] = `sha256:${await sha256File(full)}`;
      else files[rel] = `other:${(await lstat(full)).mode.toString(8)}`;
    }
  };
  await walk(dir);
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

/** Records what the freshly cached `dir` hashes to, for the next job's cache hit to check. */
export async function writeToolCacheRecord(
  dir: string,
  download: Pick<ToolDownload, "sha256">,
): Promise<void> {
  const record: ToolCacheRecord = {
    archiveSha256: download.sha256.toLowerCase(),
    files: await hashTree(dir),
  };
  await writeFile(toolCacheRecordPath(dir), `${JSON.stringify(record, null, 2)}\n`);
}

/** Why a cached tree cannot be trusted, or undefined when it hashes as recorded for the pinned download. */
async function cacheEntryProblem(dir: string, expectedArchive: string): Promise<string | undefined> {
  let record: ToolCacheRecord;
  try {
    record = JSON.parse(await readFile(toolCacheRecordPath(dir), "utf8")) as ToolCacheRecord;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    return missing
      ? `has no sha256 record (${toolCacheRecordPath(dir)}), so nothing shows it came from the pinned download`
      : `has an unreadable sha256 record (${toolCacheRecordPath(dir)}): ${(e as Error).message}`;
  }
  if (typeof record.archiveSha256 !== "string" || typeof record.files !== "object" || record.files === null)
    return `has a malformed sha256 record (${toolCacheRecordPath(dir)})`;
  if (record.archiveSha256 !== expectedArchive)
    return `was installed from another download (sha256 ${record.archiveSha256}, pinned ${expectedArchive})`;
  await removeBytecodeCaches(dir);
  const actual = await hashTree(dir);
  const changed = [...new Set([...Object.keys(record.files), ...Object.keys(actual)])]
    .filter((file) => record.files[file] !== actual[file])
    .sort();
  if (changed.length === 0) return undefined;
  const shown = changed.slice(0, 5).map((file) => {
    if (!(file in record.files)) return `${file} (not installed by the download)`;
    if (!(file in actual)) return `${file} (missing)`;
    return `${file} (${actual[file]}, recorded ${record.files[file]})`;
  });
  const more = changed.length > shown.length ? ` and ${changed.length - shown.length} more` : "";
  return `does not hash as installed: ${shown.join(", ")}${more}`;
}

/**
 * Python writes `__pycache__/` beside the modules of a tree it runs from (mkosi's launcher does): derived,
 * regenerated on the next run, and loaded in place of the sources when present, so they are removed rather
 * than trusted or counted as a change.
 */
async function removeBytecodeCaches(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const full = join(dir, entry.name);
    if (entry.name === "__pycache__") await rm(full, { recursive: true, force: true });
    else await removeBytecodeCaches(full);
  }
}

/** Removes a cache entry (its tree, tool-cache's `.complete` marker, our record) so it is installed afresh. */
async function discardCacheEntry(dir: string): Promise<void> {
  await rm(`${dir}.complete`, { force: true });
  await rm(toolCacheRecordPath(dir), { force: true });
  await rm(dir, { recursive: true, force: true });
}
