import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assertDigest, digestAlgorithm, digestHex, digestLike, sha256Digest } from "./digest";
import { DigestMismatchError, ManifestError } from "./errors";
import {
  encodeManifest,
  isIndex,
  parseManifest,
  type Descriptor,
  type ImageIndex,
  type Manifest,
} from "./manifest";
import { ANNOTATION_REF_NAME, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST } from "./mediatypes";

/** The OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. */
export const OCI_LAYOUT_VERSION = "1.0.0";

/** image-spec's grammar for `org.opencontainers.image.ref.name` values. */
const REF_NAME =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

export function isValidRefName(name: string): boolean {
  return REF_NAME.test(name);
}

export function blobPath(layoutDir: string, digest: string): string {
  assertDigest(digest);
  return join(layoutDir, "blobs", digestAlgorithm(digest), digestHex(digest));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Writes through a temporary name and renames, so a reader never sees half a file. */
async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function checkLayoutFile(layoutDir: string): Promise<void> {
  const path = join(layoutDir, "oci-layout");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new Error(`${layoutDir} is not an OCI image layout: it has no oci-layout file`);
  }
  let version: unknown;
  try {
    version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    throw new Error(`${path} is not valid JSON; expected {"imageLayoutVersion":"${OCI_LAYOUT_VERSION}"}`);
  }
  if (version !== OCI_LAYOUT_VERSION) {
    throw new Error(
      `${path} declares imageLayoutVersion ${JSON.stringify(version)}; only "${OCI_LAYOUT_VERSION}" is supported`,
    );
  }
}

/** Creates the layout skeleton, keeping what is there; refuses a directory holding another layout version. */
export async function initLayout(layoutDir: string): Promise<void> {
  await mkdir(join(layoutDir, "blobs", "sha256"), { recursive: true });
  if (await exists(join(layoutDir, "oci-layout"))) {
    await checkLayoutFile(layoutDir);
  } else {
    await writeAtomic(
      join(layoutDir, "oci-layout"),
      JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }),
    );
  }
  if (!(await exists(join(layoutDir, "index.json")))) {
    await writeIndex(layoutDir, { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: [] });
  }
}

/** Stores bytes as a blob (no-op when already present); returns its sha256 digest and size. */
export async function writeBlob(layoutDir: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256Digest(bytes);
  const path = blobPath(layoutDir, digest);
  if (!(await exists(path))) {
    await mkdir(join(layoutDir, "blobs", "sha256"), { recursive: true });
    await writeAtomic(path, bytes);
  }
  return { digest, size: bytes.length };
}

export async function hasBlob(layoutDir: string, digest: string): Promise<boolean> {
  return exists(blobPath(layoutDir, digest));
}

/** A blob's bytes, checked against its digest (a layout on disk can be corrupted or tampered with). */
export async function readBlob(layoutDir: string, digest: string): Promise<Buffer> {
  const path = blobPath(layoutDir, digest);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`blob ${digest} is not in the layout ${layoutDir} (no ${path})`);
    }
    throw error;
  }
  const actual = digestLike(digest, bytes);
  if (actual !== digest) throw new DigestMismatchError(`${path}`, digest, actual);
  return bytes;
}

/** The layout's index.json (after checking oci-layout). */
export async function readIndex(layoutDir: string): Promise<ImageIndex> {
  await checkLayoutFile(layoutDir);
  const path = join(layoutDir, "index.json");
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new Error(`${layoutDir} is not an OCI image layout: it has no index.json`);
  }
  const { manifest } = parseManifest(bytes, OCI_IMAGE_INDEX, path);
  if (!isIndex(manifest)) throw new ManifestError(`${path} is not an image index`);
  return manifest;
}

export async function writeIndex(layoutDir: string, index: ImageIndex): Promise<void> {
  await writeAtomic(join(layoutDir, "index.json"), JSON.stringify(index));
}

/**
 * Records a manifest in index.json. With `refName` the entry carries `org.opencontainers.image.ref.name`
 * and replaces any entry with that name (the name moves, like a tag); without one an entry with the
 * same digest is kept as is.
 */
export async function addManifest(
  layoutDir: string,
  descriptor: Descriptor,
  options: { refName?: string } = {},
): Promise<ImageIndex> {
  assertDigest(descriptor.digest, "manifest descriptor digest");
  const { refName } = options;
  if (refName !== undefined && !isValidRefName(refName)) {
    throw new Error(
      `ref name ${JSON.stringify(refName)} is not valid in an OCI layout; expected letters and digits separated by - . _ : @ + -- or /`,
    );
  }
  await initLayout(layoutDir);
  const index = await readIndex(layoutDir);
  let manifests = index.manifests;
  if (refName !== undefined) {
    manifests = manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] !== refName);
    manifests.push({
      ...descriptor,
      annotations: { ...descriptor.annotations, [ANNOTATION_REF_NAME]: refName },
    });
  } else if (
    !manifests.some((m) => m.digest === descriptor.digest && !m.annotations?.[ANNOTATION_REF_NAME])
  ) {
    manifests = [...manifests, descriptor];
  }
  const updated = { ...index, manifests };
  await writeIndex(layoutDir, updated);
  return updated;
}

/** Writes a manifest as a blob and records it under `refName`; returns its descriptor. */
export async function writeManifest(
  layoutDir: string,
  manifest: Manifest,
  options: { refName?: string; mediaType?: string } = {},
): Promise<Descriptor> {
  const mediaType =
    options.mediaType ?? manifest.mediaType ?? (isIndex(manifest) ? OCI_IMAGE_INDEX : OCI_IMAGE_MANIFEST);
  await initLayout(layoutDir);
  const { digest, size } = await writeBlob(layoutDir, encodeManifest(manifest));
  const descriptor: Descriptor = { mediaType, digest, size };
  await addManifest(layoutDir, descriptor, options.refName !== undefined ? { refName: options.refName } : {});
  return descriptor;
}

/**
 * The index.json entry for `refName`, or, without a name, the only entry. Errors name the layout and
 * the names it does have.
 */
export async function resolve(layoutDir: string, refName?: string): Promise<Descriptor> {
  const index = await readIndex(layoutDir);
  const names = index.manifests
    .map((m) => m.annotations?.[ANNOTATION_REF_NAME])
    .filter((n): n is string => !!n);
  if (refName === undefined) {
    if (index.manifests.length === 1) return index.manifests[0]!;
    throw new Error(
      `${layoutDir} holds ${index.manifests.length} manifests; name one (${names.length > 0 ? names.join(", ") : "none has a ref name"})`,
    );
  }
  const found = index.manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] === refName);
  if (found.length === 0) {
    throw new Error(
      `no manifest named ${JSON.stringify(refName)} in ${layoutDir}; it has ${names.length > 0 ? names.join(", ") : "no named manifests"}`,
    );
  }
  if (found.length > 1)
    throw new Error(
      `${layoutDir} has ${found.length} manifests named ${JSON.stringify(refName)}; expected one`,
    );
  return found[0]!;
}
