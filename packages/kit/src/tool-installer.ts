import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { chmod, copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
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
    if (found.missing.length === 0) {
      logger.info(`${tool} ${version} (${arch}) found in the tool cache: ${cachedDir}`);
      return { dir: cachedDir, binaries: found.binaries, cached: true };
    }
    logger.warning(
      `${tool} ${version} in the tool cache lacks ${found.missing.join(", ")}; downloading it again from ${url}`,
    );
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
