import { ManifestError } from "./errors";
import {
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
} from "./mediatypes";

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

/** A content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
  data?: string;
}

/** One platform's image: a config and its layers (OCI image manifest or Docker v2 schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A list of manifests, usually one per platform (OCI image index or Docker manifest list). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

export function isIndex(manifest: Manifest): manifest is ImageIndex {
  return Array.isArray((manifest as Partial<ImageIndex>).manifests);
}

export function isImageManifest(manifest: Manifest): manifest is ImageManifest {
  return !isIndex(manifest);
}

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.includes(mediaType);
}

/** Strips parameters (`; charset=utf-8`) a registry may add to Content-Type. */
export function baseMediaType(contentType: string | null | undefined): string | undefined {
  const base = contentType?.split(";")[0]?.trim().toLowerCase();
  return base ? base : undefined;
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.mediaType === "string" &&
    typeof d.digest === "string" &&
    typeof d.size === "number"
  );
}

/**
 * Parses manifest bytes and decides their media type: the manifest's own `mediaType` field first, then
 * the response's Content-Type, then the shape (`manifests` → OCI index, `config` → OCI manifest).
 * Throws ManifestError for schema 1, non-JSON, or missing config/layers/manifests; `what` names the source.
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType?: string | null,
  what = "manifest",
): { mediaType: string; manifest: Manifest } {
  const headerType = baseMediaType(contentType);
  if (headerType === DOCKER_MANIFEST_V1_SIGNED || headerType === DOCKER_MANIFEST_V1) {
    throw new ManifestError(
      `${what} is a Docker schema 1 manifest (${headerType}), which is not supported; re-push the image with a current client`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ManifestError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ManifestError(`${what} is not a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  if (record.schemaVersion === 1) {
    throw new ManifestError(
      `${what} is a Docker schema 1 manifest, which is not supported; re-push the image with a current client`,
    );
  }
  if (record.schemaVersion !== 2) {
    throw new ManifestError(`${what} has schemaVersion ${JSON.stringify(record.schemaVersion)}; expected 2`);
  }
  const declared = typeof record.mediaType === "string" ? record.mediaType : undefined;
  const shapeIsIndex = Array.isArray(record.manifests);
  const mediaType =
    declared ??
    (headerType && MANIFEST_MEDIA_TYPES.includes(headerType) ? headerType : undefined) ??
    (shapeIsIndex ? OCI_IMAGE_INDEX : OCI_IMAGE_MANIFEST);

  if (isIndexMediaType(mediaType) || (shapeIsIndex && !MANIFEST_MEDIA_TYPES.includes(mediaType))) {
    if (!shapeIsIndex || !(record.manifests as unknown[]).every(isDescriptor)) {
      throw new ManifestError(`${what} (${mediaType}) needs a "manifests" array of descriptors`);
    }
  } else {
    if (!isDescriptor(record.config)) {
      throw new ManifestError(`${what} (${mediaType}) needs a "config" descriptor`);
    }
    if (!Array.isArray(record.layers) || !record.layers.every(isDescriptor)) {
      throw new ManifestError(`${what} (${mediaType}) needs a "layers" array of descriptors`);
    }
  }
  return { mediaType, manifest: parsed as Manifest };
}

/** Serialises a manifest the way it will be pushed (compact JSON; the digest is of exactly these bytes). */
export function encodeManifest(manifest: Manifest): Buffer {
  return Buffer.from(JSON.stringify(manifest));
}
