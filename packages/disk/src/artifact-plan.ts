/**
 * How the output directory goes up as workflow artifacts when disks outgrow what one artifact carries well.
 *
 * What the limits are (checked December 2026 through the reference search, against @actions/artifact 6.2.1
 * in our lockfile): neither @actions/artifact's README nor upload-artifact's documents a byte limit per file
 * or per artifact; an artifact is one zip streamed to blob storage in 8 MiB blocks, failed when no block
 * completes for 5 minutes ("Upload progress stalled", upload-artifact #591/#740), with no resume: one
 * stall loses the whole artifact. A job may create 500 artifacts (upload-artifact #470, docs PR #509; the
 * toolkit README still says 10). Storage counts against the account's quota. Downloaders that hold an
 * artifact in one Node Buffer fail at 2^31 bytes (dawidd6/action-download-artifact #109, #201, on OS images),
 * and users ask for split uploads (upload-artifact #538). So: files larger than the part size are cut into
 * `<file>.part-000`, `.part-001`… (what GNU `split -d -a 3` names), and everything is packed into artifacts
 * of at most the part size each; `cat` of the parts in order is the file again.
 *
 * Not compressed further: the artifact zip already deflates every file (zlib level 6), so a raw disk's runs
 * of zeros do not travel, and qcow2 is compressed by qemu-img; a second compressor would only make users
 * install it to read a disk.
 */

/**
 * 2000 MiB: under 2^31 bytes with room for the zip's headers, so every downloader can hold an artifact,
 * and a stalled upload loses at most that much.
 */
export const DEFAULT_ARTIFACT_PART_SIZE = 2000 * 1024 * 1024;

/** Artifacts one job may create (upload-artifact #470). */
export const MAX_ARTIFACTS_PER_JOB = 500;

/** The files that describe the set: they go up with the last artifact, whose name is the one asked for. */
export const INDEX_FILES = ["SHA256SUMS", "SHA256SUMS.parts", "reassemble.sh"] as const;

/** A size that is not one: the entry maps it to its input. */
export class ByteSizeError extends Error {
  constructor(raw: string) {
    super(`'${raw.slice(0, 40)}' is not a size`);
    this.name = "ByteSizeError";
  }
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `0`, `1048576`, `512K`, `100M`, `2G`, `2GiB`, `1.5G` (binary units, as `split -b` reads them). */
export function parseByteSize(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(raw);
  if (!match) throw new ByteSizeError(raw);
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) throw new ByteSizeError(raw);
  return bytes;
}

export interface PlanFile {
  /** Relative to the uploaded directory, `/`-separated. */
  name: string;
  size: number;
}

export interface PartSpec {
  /** `<file>.part-NNN`, relative like the file. */
  name: string;
  offset: number;
  length: number;
}

export interface SplitFile extends PlanFile {
  parts: PartSpec[];
}

export interface PlannedArtifact {
  name: string;
  /** Relative names: whole files and parts, in upload order. */
  files: string[];
  /** File bytes (the zip around them adds headers). */
  bytes: number;
}

export interface UploadPlan {
  artifacts: PlannedArtifact[];
  splits: SplitFile[];
}

/** More artifacts than a job may create: the part size is too small for what was built. */
export class UploadPlanError extends Error {
  constructor(
    readonly artifacts: number,
    readonly partSize: number,
  ) {
    super(
      `${artifacts} artifacts of at most ${partSize} bytes each would be needed; a job may create ${MAX_ARTIFACTS_PER_JOB}`,
    );
    this.name = "UploadPlanError";
  }
}

/** The parts' suffixes: three digits as `split -d -a 3` writes them, more only past a thousand parts. */
export function splitFile(file: PlanFile, partSize: number): SplitFile {
  const count = Math.ceil(file.size / partSize);
  const width = Math.max(3, String(count - 1).length);
  return {
    ...file,
    parts: Array.from({ length: count }, (_, i) => ({
      name: `${file.name}.part-${String(i).padStart(width, "0")}`,
      offset: i * partSize,
      length: Math.min(partSize, file.size - i * partSize),
    })),
  };
}

/**
 * Which files are split and which artifact carries what. Part size 0 keeps today's single artifact of
 * whole files. Otherwise files larger than the part size are split, and whole files and parts are packed
 * in name order into artifacts of at most the part size; the index files ride with the last one. The last
 * artifact is named `artifactName`, the ones before it `<artifactName>-1`, `-2`…: the name asked for
 * appears once the set is complete.
 */
export function planUpload(
  files: readonly PlanFile[],
  partSize: number,
  artifactName: string,
  indexFiles: readonly string[] = INDEX_FILES,
): UploadPlan {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const index = sorted.filter((f) => indexFiles.includes(f.name));
  const data = sorted.filter((f) => !indexFiles.includes(f.name));
  if (partSize <= 0)
    return {
      artifacts: [
        {
          name: artifactName,
          files: [...data, ...index].map((f) => f.name),
          bytes: [...data, ...index].reduce((sum, f) => sum + f.size, 0),
        },
      ],
      splits: [],
    };
  const splits: SplitFile[] = [];
  const items: PlanFile[] = [];
  for (const file of data) {
    if (file.size > partSize) {
      const split = splitFile(file, partSize);
      splits.push(split);
      items.push(...split.parts.map((p) => ({ name: p.name, size: p.length })));
    } else items.push(file);
  }
  const bins: { files: string[]; bytes: number }[] = [{ files: [], bytes: 0 }];
  for (const item of items) {
    let bin = bins.at(-1)!;
    if (bin.files.length > 0 && bin.bytes + item.size > partSize) bins.push((bin = { files: [], bytes: 0 }));
    bin.files.push(item.name);
    bin.bytes += item.size;
  }
  const last = bins.at(-1)!;
  for (const file of index) {
    last.files.push(file.name);
    last.bytes += file.size;
  }
  if (bins.length > MAX_ARTIFACTS_PER_JOB) throw new UploadPlanError(bins.length, partSize);
  return {
    artifacts: bins.map((bin, i) => ({
      name: i === bins.length - 1 ? artifactName : `${artifactName}-${i + 1}`,
      ...bin,
    })),
    splits,
  };
}

const shellQuote = (s: string) => (/^[\w./+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The one line that puts a split file back together. */
export function reassemblyLine(split: SplitFile): string {
  return `cat ${split.parts.map((p) => shellQuote(p.name)).join(" ")} > ${shellQuote(split.name)}`;
}

/**
 * `reassemble.sh`, run in the directory every artifact was downloaded into: checks the parts, joins them,
 * checks the whole files against SHA256SUMS, and only then removes the parts.
 */
export function renderReassembleScript(splits: readonly SplitFile[]): string {
  return [
    "#!/bin/sh",
    "# Run where every artifact of this set was downloaded (download-artifact with merge-multiple: true).",
    "set -eu",
    "sha256sum -c SHA256SUMS.parts",
    ...splits.map(reassemblyLine),
    "sha256sum -c SHA256SUMS",
    ...splits.map((s) => `rm ${s.parts.map((p) => shellQuote(p.name)).join(" ")}`),
    "",
  ].join("\n");
}
