import { readdir, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { formatBytes, type Logger } from "@frostyard/kit";
import {
  planUpload,
  reassemblyLine,
  renderReassembleScript,
  type PlanFile,
  type SplitFile,
  type UploadPlan,
} from "./artifact-plan";
import { renderSha256Sums } from "./checksums";
import { writePart } from "./artifact-split";

/** The transport: @actions/artifact's uploadArtifact in the entry, anything that stores files in tests. */
export type ArtifactUploader = (
  name: string,
  files: string[],
  rootDirectory: string,
) => Promise<{ id: number; size: number }>;

export interface UploadedArtifact {
  name: string;
  id: number;
  /** What the service stored (the zip). */
  size: number;
  files: string[];
}

export interface UploadedSplit extends SplitFile {
  parts: (SplitFile["parts"][number] & { sha256: string })[];
  reassemble: string;
}

export interface UploadReport {
  artifacts: UploadedArtifact[];
  splits: UploadedSplit[];
  partSize: number;
}

/** Every file under `directory` (symlinks as the files they name), relative and `/`-separated. */
async function filesUnder(directory: string): Promise<PlanFile[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  const files: PlanFile[] = [];
  for (const e of entries.filter((e) => e.isFile() || e.isSymbolicLink())) {
    const path = join(e.parentPath, e.name);
    files.push({ name: relative(directory, path).split(sep).join("/"), size: (await stat(path)).size });
  }
  return files;
}

/**
 * Uploads `directory` as `planUpload` lays it out: each artifact's parts are written just before it goes up
 * and removed right after, so the extra disk space is one artifact's worth, not a second copy of every disk.
 * With splits, SHA256SUMS.parts (each part's sha256) and reassemble.sh go up with the last artifact.
 */
export async function uploadInParts(options: {
  directory: string;
  artifactName: string;
  partSize: number;
  upload: ArtifactUploader;
  logger: Logger;
}): Promise<UploadReport> {
  const { directory, logger } = options;
  const plan: UploadPlan = planUpload(await filesUnder(directory), options.partSize, options.artifactName);
  const partOf = new Map(
    plan.splits.flatMap((s) => s.parts.map((p) => [p.name, { split: s, part: p }] as const)),
  );
  const hashes = new Map<string, string>();
  const uploaded: UploadedArtifact[] = [];
  for (const [i, artifact] of plan.artifacts.entries()) {
    const written: string[] = [];
    try {
      for (const name of artifact.files) {
        const found = partOf.get(name);
        if (!found) continue;
        const destination = join(directory, name);
        written.push(destination);
        const { sha256 } = await writePart(join(directory, found.split.name), found.part, destination);
        hashes.set(name, sha256);
      }
      if (i === plan.artifacts.length - 1 && plan.splits.length > 0) {
        await writeFile(
          join(directory, "SHA256SUMS.parts"),
          renderSha256Sums(
            plan.splits.flatMap((s) => s.parts.map((p) => ({ name: p.name, sha256: hashes.get(p.name)! }))),
          ),
        );
        await writeFile(join(directory, "reassemble.sh"), renderReassembleScript(plan.splits), {
          mode: 0o755,
        });
        artifact.files.push(
          ...["SHA256SUMS.parts", "reassemble.sh"].filter((f) => !artifact.files.includes(f)),
        );
      }
      const result = await options.upload(
        artifact.name,
        artifact.files.map((f) => join(directory, f)),
        directory,
      );
      logger.info(
        `artifact ${artifact.name} #${result.id}: ${artifact.files.length} file(s), ${formatBytes(artifact.bytes)} of files, ${formatBytes(result.size)} stored`,
      );
      uploaded.push({ name: artifact.name, id: result.id, size: result.size, files: artifact.files });
    } finally {
      for (const path of written) await rm(path, { force: true });
    }
  }
  const splits = plan.splits.map((s) => ({
    ...s,
    parts: s.parts.map((p) => ({ ...p, sha256: hashes.get(p.name)! })),
    reassemble: reassemblyLine(s),
  }));
  for (const s of splits)
    logger.info(`${s.name} (${formatBytes(s.size)}) went up in ${s.parts.length} parts; ${s.reassemble}`);
  return { artifacts: uploaded, splits, partSize: options.partSize };
}

/** Summary lines: what was split and how to get it back; nothing when one artifact carried whole files. */
export function describeUpload(report: UploadReport): string[] {
  if (report.artifacts.length <= 1 && report.splits.length === 0) return [];
  const lines = [
    `Uploaded as ${report.artifacts.length} artifacts of at most ${formatBytes(report.partSize)} of files each: ${report.artifacts.map((a) => `\`${a.name}\``).join(", ")}.`,
  ];
  for (const s of report.splits)
    lines.push(
      `\`${s.name}\` (${formatBytes(s.size)}) was split into ${s.parts.length} parts (\`${s.parts[0]!.name}\` … \`${s.parts.at(-1)!.name}\`); joined by \`${s.reassemble}\`.`,
    );
  if (report.splits.length > 0)
    lines.push(
      "Download every artifact into one directory and run `sh reassemble.sh`: it checks each part against SHA256SUMS.parts, joins them and checks the disks against SHA256SUMS.",
    );
  return lines;
}
