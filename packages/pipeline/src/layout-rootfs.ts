import { mkdir, readFile, rm } from "node:fs/promises";
import { join, normalize, posix } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import { blobPath, parseManifest, isImageManifest } from "@frostyard/oci";

/** What one layer's whiteouts remove from the layers below it (OCI image spec, "Whiteouts"). */
export interface WhiteoutPlan {
  /** Paths deleted (`dir/.wh.name` → `dir/name`). */
  remove: string[];
  /** Directories whose lower contents are hidden (`dir/.wh..wh..opq`): emptied before the layer lands. */
  opaque: string[];
}

/** A layer's tar entry names → the whiteouts it carries; entries that would leave the tree are ignored. */
export function whiteoutPlan(entries: readonly string[]): WhiteoutPlan {
  const remove: string[] = [];
  const opaque: string[] = [];
  for (const raw of entries) {
    const entry = posix.normalize(raw.replace(/^\.?\/+/, ""));
    if (entry.startsWith("..")) continue;
    const base = posix.basename(entry);
    const dir = posix.dirname(entry);
    if (base === ".wh..wh..opq") opaque.push(dir === "." ? "" : dir);
    else if (base.startsWith(".wh.")) remove.push(posix.join(dir, base.slice(".wh.".length)));
  }
  return { remove, opaque };
}

/** GNU tar's flag for a layer's compression, from its media type. */
export function decompressFlag(mediaType: string): string[] {
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip")) return ["-z"];
  if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) return ["--zstd"];
  return [];
}

/**
 * Unpacks the image `digest` of an OCI layout into `destination`, layer by layer with GNU tar (numeric
 * owners, xattrs), applying each layer's whiteouts: a Format=oci build has no directory tree to lint, so
 * the lint stage reads the image exactly as it will be pushed.
 */
export async function unpackLayoutImage(
  layout: string,
  digest: string,
  destination: string,
  logger: Logger,
): Promise<void> {
  const { manifest } = parseManifest(
    await readFile(blobPath(layout, digest)),
    undefined,
    `${layout} ${digest}`,
  );
  if (!isImageManifest(manifest)) throw new Error(`${layout}: ${digest} is an index, not one image`);
  await rm(destination, { recursive: true, force: true });
  await mkdir(destination, { recursive: true });
  for (const layer of manifest.layers) {
    const blob = blobPath(layout, layer.digest);
    const flags = decompressFlag(layer.mediaType);
    const listed = await execStreaming("tar", ["-t", ...flags, "-f", blob], {
      logger,
      captureStdout: true,
      onStdoutLine: () => {},
      echoCommand: false,
    });
    const plan = whiteoutPlan(listed.stdout.split("\n").filter(Boolean));
    for (const dir of plan.opaque) {
      const target = join(destination, normalize(dir));
      await rm(target, { recursive: true, force: true });
      await mkdir(target, { recursive: true });
    }
    for (const path of plan.remove)
      await rm(join(destination, normalize(path)), { recursive: true, force: true });
    await execStreaming(
      "tar",
      [
        "-x",
        ...flags,
        "-f",
        blob,
        "-C",
        destination,
        "--numeric-owner",
        "--xattrs",
        "--xattrs-include=*",
        "--exclude=.wh.*",
        "--exclude=*/.wh.*",
      ],
      { logger, echoCommand: false },
    );
  }
}
