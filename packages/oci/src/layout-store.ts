import { createHash, randomUUID, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { MAX_MANIFEST_BYTES } from "./client";
import { digestProblem } from "./digest";
import { LayoutRegistryError } from "./errors";
import {
  addManifest,
  blobPath,
  hasBlob,
  initLayout,
  isValidRefName,
  readBlob,
  readIndex,
  writeBlob,
  writeIndex,
} from "./layout";
import { isIndex, parseManifest, type Descriptor } from "./manifest";
import { ANNOTATION_REF_NAME } from "./mediatypes";
import { parseReference } from "./reference";

const TAG = /^[\w][\w.-]{0,127}$/;
export const LAYOUT_TAG_GRAMMAR = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127} with no doubled separators";

/**
 * A distribution API error: the spec's error code and the status it goes with, so the HTTP side can
 * answer `{"errors":[{code,message}]}` without knowing why the store refused.
 */
export class RegistryApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RegistryApiError";
  }
}

/** A blob digest this layout can store (sha256); names the digest and the accepted form otherwise. */
export function checkBlobDigest(digest: string): string {
  const problem =
    digestProblem(digest) ??
    (digest.startsWith("sha256:") ? undefined : `digest ${digest}: only sha256 is stored here`);
  if (problem) throw new RegistryApiError(400, "DIGEST_INVALID", problem);
  return digest;
}

/** Whether `tag` is both a registry tag and an OCI layout ref name, so it survives in index.json. */
export function isLayoutTag(tag: string): boolean {
  return TAG.test(tag) && isValidRefName(tag);
}

/** A manifest reference: a sha256 digest, or a tag that is also a valid OCI ref name. */
export function checkManifestReference(reference: string): { tag: string } | { digest: string } {
  if (reference.includes(":")) return { digest: checkBlobDigest(reference) };
  if (!isLayoutTag(reference)) {
    throw new RegistryApiError(
      400,
      "TAG_INVALID",
      `tag ${JSON.stringify(reference)} is not valid; expected ${LAYOUT_TAG_GRAMMAR}`,
    );
  }
  return { tag: reference };
}

/** Throws a LayoutRegistryError unless `repository` is a bare repository path (no registry, tag or digest). */
export function checkRepository(repository: string): void {
  const accepted = "lowercase path components separated by /, like os/snow";
  let parsed;
  try {
    parsed = parseReference(`127.0.0.1/${repository}`);
  } catch (error) {
    throw new LayoutRegistryError("repository", repository, (error as Error).message, accepted);
  }
  if (parsed.repository !== repository || parsed.tag !== undefined || parsed.digest !== undefined) {
    throw new LayoutRegistryError("repository", repository, "it carries a tag or digest", accepted);
  }
}

interface Upload {
  path: string;
  size: number;
  hash: Hash;
}

/**
 * One repository's blobs, manifests, tags and uploads over an OCI image layout directory: what a
 * registry stores, with no HTTP in it. Refusals are RegistryApiErrors carrying the distribution
 * spec's code. Upload sessions live in `<layout>/.uploads/` until finished, dropped or `close()`.
 */
export class LayoutStore {
  private readonly uploads = new Map<string, Upload>();
  private indexQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly layout: string,
    readonly repository: string,
    private readonly uploadsDir: string,
  ) {}

  /** Checks the repository name, creates (or checks) the layout and its uploads directory. */
  static async open(layout: string, repository: string): Promise<LayoutStore> {
    checkRepository(repository);
    await initLayout(layout);
    const uploadsDir = join(layout, ".uploads");
    await mkdir(uploadsDir, { recursive: true });
    return new LayoutStore(layout, repository, uploadsDir);
  }

  /** index.json is read-modify-written: one change at a time, or concurrent tag pushes lose entries. */
  private serially<T>(change: () => Promise<T>): Promise<T> {
    const done = this.indexQueue.then(change, change);
    this.indexQueue = done.catch(() => undefined);
    return done;
  }

  // ---- tags and manifests ------------------------------------------------------------------------

  /** Every ref name in index.json, sorted, each once. */
  async tags(): Promise<string[]> {
    const { manifests } = await readIndex(this.layout);
    const names = manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]).filter((n) => n !== undefined);
    return [...new Set(names)].sort();
  }

  /** The descriptor a tag or digest names, or undefined; children of an index are found by digest too. */
  async findManifest(reference: string): Promise<Descriptor | undefined> {
    const wanted = checkManifestReference(reference);
    const { manifests } = await readIndex(this.layout);
    if ("tag" in wanted) return manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === wanted.tag);
    const entry = manifests.find((m) => m.digest === wanted.digest);
    if (entry || !(await hasBlob(this.layout, wanted.digest))) return entry;
    // Children of an index are blobs with no index.json entry: their own bytes say what they are.
    const { size } = await stat(blobPath(this.layout, wanted.digest));
    if (size > MAX_MANIFEST_BYTES) return undefined;
    try {
      const bytes = await readBlob(this.layout, wanted.digest);
      return { mediaType: parseManifest(bytes).mediaType, digest: wanted.digest, size };
    } catch {
      return undefined;
    }
  }

  /** The manifest's descriptor and bytes; MANIFEST_UNKNOWN when the layout has none by that name. */
  async getManifest(reference: string): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
    const descriptor = await this.findManifest(reference);
    if (!descriptor) throw this.manifestUnknown(reference);
    return { descriptor, bytes: await readBlob(this.layout, descriptor.digest) };
  }

  /**
   * Stores a manifest whose blobs are all present and records it in index.json: under `reference`
   * when it is a tag (moving the tag), else once by digest. Returns its digest.
   */
  async putManifest(reference: string, bytes: Buffer, contentType: string | undefined): Promise<string> {
    const wanted = checkManifestReference(reference);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RegistryApiError(413, "SIZE_INVALID", `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    let parsed;
    try {
      parsed = parseManifest(bytes, contentType, `manifest ${this.repository}:${reference}`);
    } catch (error) {
      throw new RegistryApiError(400, "MANIFEST_INVALID", (error as Error).message);
    }
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if ("digest" in wanted && wanted.digest !== digest) {
      throw new RegistryApiError(
        400,
        "DIGEST_INVALID",
        `manifest content digest ${digest} does not match ${wanted.digest}`,
      );
    }
    const { manifest } = parsed;
    const needed = isIndex(manifest) ? manifest.manifests : [manifest.config, ...manifest.layers];
    for (const blob of needed) {
      if (digestProblem(blob.digest) || !(await hasBlob(this.layout, blob.digest))) {
        throw new RegistryApiError(
          400,
          "MANIFEST_BLOB_UNKNOWN",
          `manifest references ${blob.digest}, which was not pushed`,
        );
      }
    }
    await writeBlob(this.layout, bytes);
    const descriptor = { mediaType: parsed.mediaType, digest, size: bytes.length };
    await this.serially(async () => {
      if ("tag" in wanted) return addManifest(this.layout, descriptor, { refName: wanted.tag });
      const { manifests } = await readIndex(this.layout);
      if (!manifests.some((m) => m.digest === digest)) await addManifest(this.layout, descriptor);
    });
    return digest;
  }

  /** Removes the index.json entries a tag or digest names (the blobs stay); MANIFEST_UNKNOWN when none. */
  async deleteManifest(reference: string): Promise<void> {
    const wanted = checkManifestReference(reference);
    const deleted = await this.serially(async () => {
      const index = await readIndex(this.layout);
      const kept = index.manifests.filter((m) =>
        "tag" in wanted ? m.annotations?.[ANNOTATION_REF_NAME] !== wanted.tag : m.digest !== wanted.digest,
      );
      if (kept.length === index.manifests.length) return false;
      await writeIndex(this.layout, { ...index, manifests: kept });
      return true;
    });
    if (!deleted) throw this.manifestUnknown(reference);
  }

  private manifestUnknown(reference: string): RegistryApiError {
    return new RegistryApiError(
      404,
      "MANIFEST_UNKNOWN",
      `manifest ${this.repository}:${reference} is not known`,
    );
  }

  // ---- blobs ---------------------------------------------------------------------------------------

  /** Where a stored blob's bytes are, and how many; BLOB_UNKNOWN when it is not stored. */
  async blob(digest: string): Promise<{ path: string; size: number }> {
    const path = blobPath(this.layout, checkBlobDigest(digest));
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined)
      throw new RegistryApiError(404, "BLOB_UNKNOWN", `blob ${digest} is not in ${this.repository}`);
    return { path, size };
  }

  // ---- uploads -------------------------------------------------------------------------------------

  /** Starts an upload session; returns its id. */
  async openUpload(): Promise<string> {
    const uuid = randomUUID();
    const path = join(this.uploadsDir, uuid);
    await rm(path, { force: true });
    this.uploads.set(uuid, { path, size: 0, hash: createHash("sha256") });
    return uuid;
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN for a session that is not open. */
  uploadSize(uuid: string): number {
    return this.upload(uuid).size;
  }

  /** Appends bytes. A source that fails midway drops the session: the file and the hash no longer agree. */
  async append(uuid: string, source: AsyncIterable<Buffer>): Promise<number> {
    const upload = this.upload(uuid);
    const file = createWriteStream(upload.path, { flags: "a" });
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            upload.hash.update(chunk);
            upload.size += chunk.length;
            yield chunk;
          }
        },
        file,
      );
    } catch (error) {
      // The file opens asynchronously: removed before it is closed, it would come back empty.
      if (!file.closed) await new Promise<void>((resolve) => file.once("close", () => resolve()));
      await this.dropUpload(uuid);
      throw error;
    }
    return upload.size;
  }

  /** Ends the session: the bytes become blob `digest` when they hash to it, else DIGEST_INVALID. */
  async finishUpload(uuid: string, digest: string | null): Promise<string> {
    const upload = this.upload(uuid);
    try {
      if (digest === null) throw new RegistryApiError(400, "DIGEST_INVALID", "the final PUT has no ?digest=");
      checkBlobDigest(digest);
      const actual = `sha256:${upload.hash.digest("hex")}`;
      if (actual !== digest) {
        throw new RegistryApiError(
          400,
          "DIGEST_INVALID",
          `uploaded content digest ${actual} does not match the given ${digest}`,
        );
      }
      await rename(upload.path, blobPath(this.layout, digest));
      return digest;
    } finally {
      await this.dropUpload(uuid);
    }
  }

  /** Forgets a session and its bytes (no error when it is already gone). */
  async dropUpload(uuid: string): Promise<void> {
    const upload = this.uploads.get(uuid);
    this.uploads.delete(uuid);
    if (upload) await rm(upload.path, { force: true });
  }

  private upload(uuid: string): Upload {
    const upload = this.uploads.get(uuid);
    if (!upload) throw new RegistryApiError(404, "BLOB_UPLOAD_UNKNOWN", `upload ${uuid} is not in progress`);
    return upload;
  }

  /** Waits for index changes in flight and removes unfinished uploads; the layout stays as it is. */
  async close(): Promise<void> {
    await this.indexQueue;
    this.uploads.clear();
    await rm(this.uploadsDir, { recursive: true, force: true });
  }
}
