import { stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import { renderSha256File, renderSha256Sums, sha256File } from "./checksums";
import { conversionProblem, convertArgv, infoArgv, parseDiskInfo, type DiskInfo } from "./qemu-img";
import { QEMU_FORMAT } from "./types";

/** One file this action made: what the `artifacts` output lists per type. */
export interface DiskArtifact {
  type: string;
  path: string;
  sha256: string;
  size: number;
  /** qemu-img's view of a VM disk; undefined for installers and archives. */
  info?: DiskInfo;
}

/** A source disk that is missing or is not a raw disk: the entry maps it to `source-disk`. */
export class SourceDiskError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "SourceDiskError";
  }
}

export async function diskInfo(path: string, logger: Logger, format?: string): Promise<DiskInfo> {
  const { stdout } = await execStreaming("qemu-img", infoArgv(path, format), { logger, captureStdout: true });
  return parseDiskInfo(stdout);
}

/** sha256, size and a `<file>.sha256` beside it. */
export async function describeArtifact(type: string, path: string, info?: DiskInfo): Promise<DiskArtifact> {
  const sha256 = await sha256File(path);
  await writeFile(`${path}.sha256`, renderSha256File(basename(path), sha256));
  return { type, path, sha256, size: (await stat(path)).size, ...(info ? { info } : {}) };
}

/** SHA256SUMS over every artifact, in the directory they share; returns its path. */
export async function writeSha256Sums(
  directory: string,
  artifacts: readonly DiskArtifact[],
): Promise<string> {
  const path = join(directory, "SHA256SUMS");
  await writeFile(
    path,
    renderSha256Sums(artifacts.map((a) => ({ name: a.path.slice(directory.length + 1), sha256: a.sha256 }))),
  );
  return path;
}

/**
 * Converts a raw disk into each VM disk type with qemu-img, each checked afterwards by `qemu-img info`
 * (format and virtual size equal to the source's): a conversion that silently wrote something else fails here.
 */
export async function convertRawDisk(options: {
  source: string;
  types: readonly string[];
  outputDirectory: string;
  name: string;
  logger: Logger;
}): Promise<DiskArtifact[]> {
  const { source, logger } = options;
  const sourceStat = await stat(source).catch(() => undefined);
  if (!sourceStat?.isFile()) throw new SourceDiskError(source, "no such file");
  const sourceInfo = await diskInfo(source, logger);
  if (sourceInfo.format !== "raw")
    throw new SourceDiskError(source, `is a ${sourceInfo.format} disk, not a raw one`);
  const artifacts: DiskArtifact[] = [];
  for (const type of options.types) {
    const destination = join(options.outputDirectory, `${options.name}.${type}`);
    await logger.group(`qemu-img: ${type}`, () =>
      execStreaming("qemu-img", convertArgv(type, source, destination), { logger }),
    );
    const info = await diskInfo(destination, logger, QEMU_FORMAT[type]);
    const problem = conversionProblem(type, info, sourceInfo.virtualSize);
    if (problem) throw new Error(`${destination}: ${problem}`);
    artifacts.push(await describeArtifact(type, destination, info));
  }
  return artifacts;
}
