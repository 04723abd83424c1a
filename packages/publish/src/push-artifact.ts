import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Logger } from "@frostyard/kit";
import {
  encodeManifest,
  formatReference,
  OCI_EMPTY_JSON,
  OCI_IMAGE_MANIFEST,
  sha256Digest,
  withTag,
  type Descriptor,
  type ImageManifest,
  type ImageReference,
  type RegistryClient,
} from "@frostyard/oci";
import { versionTagAction } from "./version-tag";

/** The artifactType of disk-image's artifacts: VM disks (and installer ISOs) with their SHA256SUMS. */
export const DISK_ARTIFACT_TYPE = "application/vnd.frostyard.disk-image.v1";
/** The layer annotation oras pull and podman artifact extract name the file by. */
export const ANNOTATION_TITLE = "org.opencontainers.image.title";
/** A binary file as a layer: what podman artifact add detects for a disk; not a tar, so not oras's default. */
export const FILE_MEDIA_TYPE = "application/octet-stream";
/** The `{}` config blob: its bytes are fixed by the spec, so its descriptor is too. */
export const EMPTY_CONFIG_BYTES = Buffer.from("{}");
export const EMPTY_CONFIG: Descriptor = {
  mediaType: OCI_EMPTY_JSON,
  digest: sha256Digest(EMPTY_CONFIG_BYTES),
  size: EMPTY_CONFIG_BYTES.length,
};

/** One file of an artifact: its path, and what is already known of it (a SHA256SUMS line saves a read). */
export interface ArtifactFile {
  path: string;
  /** The file name consumers get (`org.opencontainers.image.title`); default: the path's base name. */
  title?: string;
  /** Default application/octet-stream. */
  mediaType?: string;
  /** Lowercase hex. When given, the upload hashes the bytes on their way out and fails if they differ. */
  sha256?: string;
}

/** A file as a layer: title, media type, digest and size settled. */
export interface ArtifactLayer {
  path: string;
  title: string;
  mediaType: string;
  digest: string;
  size: number;
}

/** The files given cannot make one artifact (none, two with one title, a title that is no file name). */
export class ArtifactFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArtifactFilesError";
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks titles before anything is read: each must be a plain file name (oras and podman write it as one;
 * a `/` or `..` would put a file elsewhere) and unique (podman refuses an artifact with two equal titles).
 */
export function checkTitles(titles: readonly string[]): void {
  if (titles.length === 0) throw new ArtifactFilesError("an artifact needs at least one file");
  const seen = new Set<string>();
  for (const title of titles) {
    if (title === "" || title === "." || title === ".." || /[/\\\0]/.test(title)) {
      throw new ArtifactFilesError(`"${title}" is not a file name; a layer's title must be one`);
    }
    if (seen.has(title)) throw new ArtifactFilesError(`two files are both named "${title}"`);
    seen.add(title);
  }
}

/**
 * The artifact's image manifest (image-spec 1.1 artifact guidance): the empty config, `artifactType`, one
 * layer per file in the order given, each titled. No creation time: the same files make the same digest.
 */
export function artifactManifest(
  layers: readonly Pick<ArtifactLayer, "title" | "mediaType" | "digest" | "size">[],
  artifactType: string,
  annotations: Record<string, string> = {},
): ImageManifest {
  checkTitles(layers.map((layer) => layer.title));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST,
    artifactType,
    config: { ...EMPTY_CONFIG },
    layers: layers.map((layer) => ({
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      annotations: { [ANNOTATION_TITLE]: layer.title },
    })),
  };
  if (Object.keys(annotations).length > 0) manifest.annotations = { ...annotations };
  return manifest;
}

/** sha256 of a file, read as a stream (a disk is never held in memory). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest("hex");
}

/** Settles each file's title, media type, size and digest (hashing only the files whose sha256 is unknown). */
export async function describeFiles(files: readonly ArtifactFile[]): Promise<ArtifactLayer[]> {
  checkTitles(files.map((file) => file.title ?? basename(file.path)));
  const layers: ArtifactLayer[] = [];
  for (const file of files) {
    if (file.sha256 !== undefined && !SHA256_HEX.test(file.sha256)) {
      throw new ArtifactFilesError(`${file.path}: "${file.sha256}" is not a lowercase sha256 in hex`);
    }
    const { size } = await stat(file.path);
    const hex = file.sha256 ?? (await fileSha256(file.path));
    layers.push({
      path: file.path,
      title: file.title ?? basename(file.path),
      mediaType: file.mediaType ?? FILE_MEDIA_TYPE,
      digest: `sha256:${hex}`,
      size,
    });
  }
  return layers;
}

export interface PushArtifactOptions {
  client: RegistryClient;
  /** The repository to push to (its tag or digest is ignored). */
  target: ImageReference;
  /** The immutable tag: refused when it names another manifest, unless `overwrite`. */
  tag: string;
  files: readonly ArtifactFile[];
  artifactType: string;
  annotations?: Record<string, string>;
  overwrite?: boolean;
  logger: Logger;
}

export interface PushedArtifact {
  /** `<registry>/<repository>`. */
  repository: string;
  /** The artifact manifest's digest: what cosign-sign signs. */
  digest: string;
  /** `<registry>/<repository>@<digest>`. */
  image: string;
  tag: string;
  layers: ArtifactLayer[];
  uploadedBytes: number;
  /** Blobs the registry already had (a retried run, or the same disk pushed before). */
  skippedBlobs: number;
}

/**
 * Pushes files as one OCI artifact under an immutable tag: the tag is checked before any byte goes up (a
 * second push of other files under it is refused with VersionTagTakenError, the same files are fine), each
 * blob the registry lacks is streamed from its file through the client's upload (chunked above 128 MiB, one
 * retry budget per blob, the bytes hashed on the way and checked against the digest), then the manifest is
 * put by the tag and the registry's digest for the tag compared with ours.
 */
export async function pushArtifact(options: PushArtifactOptions): Promise<PushedArtifact> {
  const { client, logger } = options;
  const repo = { registry: options.target.registry, repository: options.target.repository };
  const tagged = withTag(repo, options.tag);
  const layers = await describeFiles(options.files);
  const manifest = artifactManifest(layers, options.artifactType, options.annotations);
  const bytes = encodeManifest(manifest);
  const digest = sha256Digest(bytes);
  const reference = formatReference(tagged);

  const existing = await client.headManifest(tagged);
  const action = versionTagAction(reference, existing?.digest, digest, options.overwrite ?? false);
  if (action === "overwrite") logger.warning(`${reference} held ${existing?.digest}; moving it to ${digest}`);

  let uploadedBytes = 0;
  let skippedBlobs = 0;
  const blobs: { digest: string; size: number; source: Buffer | string }[] = [
    { digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size, source: EMPTY_CONFIG_BYTES },
    ...layers.map((layer) => ({ digest: layer.digest, size: layer.size, source: layer.path })),
  ];
  const seen = new Set<string>();
  // One blob at a time: disks are large and a runner's uplink is the limit, not the request count.
  for (const blob of blobs) {
    if (seen.has(blob.digest)) continue;
    seen.add(blob.digest);
    if (await client.blobExists(repo, blob.digest)) {
      skippedBlobs++;
      logger.debug(`${formatReference(repo)}: has ${blob.digest}`);
      continue;
    }
    const result = await client.uploadBlob(repo, blob.digest, blob.source, blob.size);
    uploadedBytes += result.size;
    logger.debug(`${formatReference(repo)}: uploaded ${blob.digest} (${result.size} bytes)`);
  }

  const pushed = await client.putManifest(tagged, bytes, OCI_IMAGE_MANIFEST);
  const head = await client.headManifest(tagged);
  if (pushed !== digest || head?.digest !== digest) {
    throw new Error(
      `pushed ${reference} but the registry reports ${head?.digest ?? "no manifest"}, not ${digest}`,
    );
  }
  const repository = `${repo.registry}/${repo.repository}`;
  logger.info(
    `pushed ${layers.map((layer) => layer.title).join(", ")} to ${reference} as ${digest}: ${uploadedBytes} bytes uploaded, ${skippedBlobs} blob(s) already there`,
  );
  return {
    repository,
    digest,
    image: `${repository}@${digest}`,
    tag: options.tag,
    layers,
    uploadedBytes,
    skippedBlobs,
  };
}
