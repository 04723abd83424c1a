import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger, RetryOptions } from "@frostyard/kit";
import type { AuthScope, RepositoryAction } from "./auth";
import type { CredentialStore } from "./credentials";
import { assertDigest, digestLike, hasherFor, sha256Digest } from "./digest";
import { parseLinkNext } from "./endpoint";
import { DigestMismatchError, ManifestError } from "./errors";
import { baseMediaType, isIndex, parseManifest, type Descriptor, type Manifest } from "./manifest";
import { MANIFEST_ACCEPT, OCI_IMAGE_INDEX } from "./mediatypes";
import {
  formatReference,
  manifestReference,
  repositoryName,
  type ImageReference,
  type RepositoryRef,
} from "./reference";
import {
  addReferrer,
  filterByArtifactType,
  referrerDescriptor,
  referrersTag,
  type ReferrersSource,
} from "./referrers";
import { RegistryTransport, type FetchLike, type RequestStats } from "./transport";
import {
  contentRange,
  DEFAULT_CHUNK_SIZE,
  hashing,
  iterateSource,
  parseUploadRange,
  rechunk,
  shouldChunk,
  sourceSize,
  type BlobSource,
} from "./upload";

export interface RegistryClientOptions {
  logger?: Logger;
  credentials?: CredentialStore;
  /** Hosts (`host` or `host:port`) allowed over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
  fetch?: FetchLike;
  /**
   * Over the client's budget (DEFAULT_REGISTRY_RETRY): per request, or per upload session as a whole,
   * 20 attempts within 120 s, backoff from 0.5 s doubling to 10 s, transient failures only.
   */
  retry?: RetryOptions;
  /** Longest Retry-After honoured as asked (longer ones are cut to it); default 30 s. */
  maxRetryAfterMs?: number;
  userAgent?: string;
  /**
   * Longest silence on a connection and the deadline of manifest, tag and token requests; default 60 s.
   * Blob transfers get this plus their size at `minBytesPerSecond` (default 64 KiB/s).
   */
  timeoutMs?: number;
  minBytesPerSecond?: number;
  /** Clock for token expiry; injectable for tests. */
  now?: () => number;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestHead {
  bytes: Buffer;
  manifest: Manifest;
}

export interface UploadOptions {
  /** `auto` (default): chunked for file/stream sources above 128 MiB. */
  mode?: "auto" | "monolithic" | "chunked";
  /** PATCH size for chunked uploads; default 32 MiB. */
  chunkSize?: number;
  /** Try a cross-repository mount from this repository (same registry) first. */
  mountFrom?: string;
}

export interface UploadResult {
  digest: string;
  size: number;
  /** True when the registry mounted the blob from `mountFrom` and nothing was uploaded. */
  mounted: boolean;
}

export interface ReferrersList {
  descriptors: Descriptor[];
  source: ReferrersSource;
}

/** Manifests larger than this are refused (the limit containers/image uses): a registry must not exhaust memory. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const scope = (repo: RepositoryRef, actions: RepositoryAction[], extraScopes?: string[]): AuthScope => ({
  registry: repo.registry,
  repository: repo.repository,
  actions,
  ...(extraScopes ? { extraScopes } : {}),
});

const PULL: RepositoryAction[] = ["pull"];
const PUSH: RepositoryAction[] = ["pull", "push"];

function v2(repo: RepositoryRef, rest: string): string {
  return `/v2/${repo.repository}/${rest}`;
}

async function readLimited(response: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw new ManifestError(`${what} is ${declared} bytes; manifests above ${limit} bytes are refused`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.length;
    if (total > limit) throw new ManifestError(`${what} is larger than ${limit} bytes; refused`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * A client for the OCI distribution API: manifests, tags, blobs and referrers, with auth from
 * podman/docker auth files, retries of transient failures, and every piece of content checked
 * against its digest. `stats` counts the HTTP requests sent.
 */
export class RegistryClient {
  private readonly transport: RegistryTransport;

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new RegistryTransport(options);
  }

  get stats(): RequestStats {
    return this.transport.stats;
  }

  // ---- manifests -------------------------------------------------------------------------------

  /** Digest, media type and size of a manifest, or undefined when the registry has no such tag/digest. */
  async headManifest(ref: ImageReference): Promise<ManifestHead | undefined> {
    const response = await this.transport.send({
      method: "HEAD",
      what: `HEAD manifest ${formatReference(ref)}`,
      scope: scope(ref, PULL),
      path: v2(ref, `manifests/${manifestReference(ref)}`),
      headers: { Accept: MANIFEST_ACCEPT },
      accept: [200, 404],
    });
    if (response.status === 404) return undefined;
    const headerDigest = response.headers.get("docker-content-digest") ?? undefined;
    if (ref.digest && headerDigest && headerDigest !== ref.digest) {
      throw new DigestMismatchError(`HEAD ${formatReference(ref)}`, ref.digest, headerDigest);
    }
    const digest = ref.digest ?? headerDigest;
    const mediaType = baseMediaType(response.headers.get("content-type"));
    const size = Number(response.headers.get("content-length") ?? NaN);
    if (digest === undefined || mediaType === undefined || !Number.isFinite(size)) {
      // Some registries omit Docker-Content-Digest (or more) on HEAD: the body is the only source of truth.
      this.transport.logger?.debug(
        `HEAD ${formatReference(ref)} gave no digest; fetching the manifest to hash it`,
      );
      const fetched = await this.getManifest(ref);
      return fetched && { digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.size };
    }
    assertDigest(digest, `Docker-Content-Digest of ${formatReference(ref)}`);
    return { digest, mediaType, size };
  }

  /**
   * The manifest bytes, parsed, with their digest verified: against the reference's digest when it
   * has one, else against the registry's Docker-Content-Digest. Undefined when not found.
   */
  async getManifest(ref: ImageReference): Promise<FetchedManifest | undefined> {
    const what = formatReference(ref);
    const got = await this.transport.request(
      {
        method: "GET",
        what: `GET manifest ${what}`,
        scope: scope(ref, PULL),
        path: v2(ref, `manifests/${manifestReference(ref)}`),
        headers: { Accept: MANIFEST_ACCEPT },
        accept: [200, 404],
      },
      async (response) =>
        response.status === 404
          ? undefined
          : {
              bytes: await readLimited(response, MAX_MANIFEST_BYTES, `manifest of ${what}`),
              headerDigest: response.headers.get("docker-content-digest") ?? undefined,
              contentType: response.headers.get("content-type"),
            },
    );
    if (!got) return undefined;
    const { bytes, headerDigest } = got;
    const expected = ref.digest ?? headerDigest;
    const digest = expected ? digestLike(expected, bytes) : sha256Digest(bytes);
    if (expected && digest !== expected)
      throw new DigestMismatchError(`manifest of ${what}`, expected, digest);
    const { mediaType, manifest } = parseManifest(bytes, got.contentType, `manifest of ${what}`);
    return { digest, mediaType, size: bytes.length, bytes, manifest };
  }

  /** Pushes manifest bytes under the reference's tag (or its digest); returns the digest, checked against the registry's. */
  async putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<string> {
    return (await this.putManifestResponse(ref, bytes, mediaType)).digest;
  }

  private async putManifestResponse(
    ref: ImageReference,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subject?: string }> {
    const what = formatReference(ref);
    const digest = ref.digest ? digestLike(ref.digest, bytes) : sha256Digest(bytes);
    if (ref.digest && digest !== ref.digest)
      throw new DigestMismatchError(`manifest for ${what}`, ref.digest, digest);
    parseManifest(bytes, mediaType, `manifest for ${what}`);
    const response = await this.transport.send({
      method: "PUT",
      what: `PUT manifest ${ref.tag ? `${repositoryName(ref)}:${ref.tag}` : `${repositoryName(ref)}@${digest}`}`,
      scope: scope(ref, PUSH),
      path: v2(ref, `manifests/${ref.tag ?? digest}`),
      headers: { "Content-Type": mediaType },
      body: bytes,
      size: bytes.length,
      accept: [200, 201],
    });
    const answered = response.headers.get("docker-content-digest");
    if (answered && answered !== digest)
      throw new DigestMismatchError(`registry's digest for ${what}`, digest, answered);
    const subject = response.headers.get("oci-subject") ?? undefined;
    return subject ? { digest, subject } : { digest };
  }

  /** Deletes a manifest by digest (the registry must allow deletes). False when it was not there. */
  async deleteManifest(repo: RepositoryRef, digest: string): Promise<boolean> {
    assertDigest(digest);
    const response = await this.transport.send({
      method: "DELETE",
      what: `DELETE manifest ${repositoryName(repo)}@${digest}`,
      scope: scope(repo, ["delete"]),
      path: v2(repo, `manifests/${digest}`),
      accept: [202, 404],
    });
    return response.status === 202;
  }

  // ---- tags ------------------------------------------------------------------------------------

  /** Every tag of the repository, following `Link` pagination; [] when the repository does not exist. */
  async listTags(repo: RepositoryRef, options: { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = v2(repo, `tags/list${options.pageSize ? `?n=${options.pageSize}` : ""}`);
    const seen = new Set<string>();
    while (path !== undefined) {
      if (seen.has(path)) throw new Error(`${repositoryName(repo)}: tag list pagination loops at ${path}`);
      seen.add(path);
      const page = await this.transport.request(
        {
          method: "GET",
          what: `GET tags of ${repositoryName(repo)}`,
          scope: scope(repo, PULL),
          path,
          accept: [200, 404],
        },
        async (response) =>
          response.status === 404
            ? undefined
            : {
                body: (await response.json()) as { tags?: string[] | null },
                link: response.headers.get("link"),
              },
      );
      if (!page) return tags;
      tags.push(...(page.body.tags ?? []));
      path = parseLinkNext(page.link, this.transport.baseUrl(repo.registry));
    }
    return tags;
  }

  // ---- blobs -----------------------------------------------------------------------------------

  async blobExists(repo: RepositoryRef, digest: string): Promise<boolean> {
    assertDigest(digest);
    const response = await this.transport.send({
      method: "HEAD",
      what: `HEAD blob ${digest} in ${repositoryName(repo)}`,
      scope: scope(repo, PULL),
      path: v2(repo, `blobs/${digest}`),
      accept: [200, 404],
    });
    return response.status === 200;
  }

  /**
   * Mounts a blob from another repository of the same registry. True when mounted (201); false when
   * the registry declined and opened an upload instead (202): upload the blob then.
   */
  async mountBlob(repo: RepositoryRef, digest: string, fromRepository: string): Promise<boolean> {
    return (await this.startUpload(repo, digest, fromRepository, true)).mounted;
  }

  /** `retry`: false inside an upload, whose one budget covers opening the session and sending the blob. */
  private async startUpload(
    repo: RepositoryRef,
    digest: string,
    mountFrom: string | undefined,
    retry: boolean,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    assertDigest(digest);
    const query = mountFrom
      ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}`
      : "";
    const extra = mountFrom ? [`repository:${mountFrom}:pull`] : undefined;
    const response = await this.transport.send({
      method: "POST",
      what: `POST upload of ${digest} to ${repositoryName(repo)}`,
      scope: scope(repo, PUSH, extra),
      path: v2(repo, `blobs/uploads/${query}`),
      headers: { "Content-Length": "0" },
      accept: mountFrom ? [201, 202] : [202],
      retry,
    });
    if (response.status === 201) return { mounted: true };
    const location = response.headers.get("location");
    if (!location)
      throw new Error(`${repositoryName(repo)}: the registry opened an upload without a Location header`);
    return { mounted: false, location };
  }

  /**
   * Uploads a blob: in one PUT (monolithic) or in PATCH chunks with Content-Range. The content is
   * hashed as it goes and must match `digest`; a transient failure of any of its requests restarts the
   * upload in a fresh session (one that was opened and abandoned is an orphan the registry expires). The
   * whole upload is one retry budget: its requests are not retried on their own, so attempts never multiply.
   */
  async uploadBlob(
    repo: RepositoryRef,
    digest: string,
    source: BlobSource,
    size?: number,
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    assertDigest(digest);
    const what = `blob ${digest} for ${repositoryName(repo)}`;
    const total = await sourceSize(source, size, what);
    if (Buffer.isBuffer(source)) {
      const actual = digestLike(digest, source);
      if (actual !== digest) throw new DigestMismatchError(what, digest, actual);
    }
    const chunked = shouldChunk(source, total, options.mode ?? "auto");
    return this.transport.withRetry(
      `upload of ${what}`,
      async () => {
        const started = await this.startUpload(repo, digest, options.mountFrom, false);
        if (started.mounted) return { digest, size: total, mounted: true };
        if (chunked) {
          await this.uploadChunked(
            repo,
            digest,
            source,
            total,
            started.location,
            options.chunkSize ?? DEFAULT_CHUNK_SIZE,
          );
        } else {
          await this.uploadMonolithic(repo, digest, source, total, started.location);
        }
        return { digest, size: total, mounted: false };
      },
      total,
    );
  }

  private async uploadMonolithic(
    repo: RepositoryRef,
    digest: string,
    source: BlobSource,
    size: number,
    location: string,
  ): Promise<void> {
    const url = this.transport.resolveUrl(repo.registry, location);
    url.searchParams.set("digest", digest);
    const { hash, algorithm } = hasherFor(digest);
    const counter = { bytes: 0 };
    try {
      const response = await this.transport.send({
        method: "PUT",
        what: `PUT blob ${digest} to ${repositoryName(repo)}`,
        scope: scope(repo, PUSH),
        path: url.toString(),
        headers: { "Content-Type": "application/octet-stream", "Content-Length": String(size) },
        body: Buffer.isBuffer(source) ? source : () => hashing(iterateSource(source), hash, counter),
        size,
        accept: [201],
        retry: false,
      });
      this.checkUploadedDigest(repo, digest, response);
    } catch (error) {
      // The registry's DIGEST_INVALID says less than what we hashed on the way out, but only once the
      // whole source went out: a connection cut midway leaves a prefix, whose hash proves nothing.
      if (!Buffer.isBuffer(source) && counter.bytes >= size) {
        const actual = `${algorithm}:${hash.copy().digest("hex")}`;
        if (actual !== digest)
          throw new DigestMismatchError(`blob for ${repositoryName(repo)}`, digest, actual);
      }
      throw error;
    }
  }

  private async uploadChunked(
    repo: RepositoryRef,
    digest: string,
    source: BlobSource,
    size: number,
    location: string,
    chunkSize: number,
  ): Promise<void> {
    const { hash, algorithm } = hasherFor(digest);
    let offset = 0;
    let next = location;
    for await (const chunk of rechunk(iterateSource(source), chunkSize)) {
      hash.update(chunk);
      const response = await this.transport.send({
        method: "PATCH",
        what: `PATCH blob ${digest} to ${repositoryName(repo)} at byte ${offset}`,
        scope: scope(repo, PUSH),
        path: this.transport.resolveUrl(repo.registry, next).toString(),
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Range": contentRange(offset, chunk.length),
          "Content-Length": String(chunk.length),
        },
        body: chunk,
        size: chunk.length,
        accept: [202],
        retry: false,
      });
      offset += chunk.length;
      const end = parseUploadRange(response.headers.get("range"));
      if (end !== undefined && end !== offset - 1) {
        throw new Error(
          `${repositoryName(repo)}: after a chunk ending at byte ${offset - 1} the registry reports 0-${end} received`,
        );
      }
      next = response.headers.get("location") ?? next;
    }
    const actual = `${algorithm}:${hash.digest("hex")}`;
    if (offset !== size) {
      throw new Error(
        `blob for ${repositoryName(repo)}: the source gave ${offset} bytes, but its size was given as ${size}`,
      );
    }
    if (actual !== digest) throw new DigestMismatchError(`blob for ${repositoryName(repo)}`, digest, actual);
    const url = this.transport.resolveUrl(repo.registry, next);
    url.searchParams.set("digest", digest);
    const response = await this.transport.send({
      method: "PUT",
      what: `PUT blob ${digest} to ${repositoryName(repo)} (end of upload)`,
      scope: scope(repo, PUSH),
      path: url.toString(),
      headers: { "Content-Length": "0" },
      accept: [201],
      retry: false,
    });
    this.checkUploadedDigest(repo, digest, response);
  }

  private checkUploadedDigest(repo: RepositoryRef, digest: string, response: Response): void {
    const answered = response.headers.get("docker-content-digest");
    if (answered && answered !== digest) {
      throw new DigestMismatchError(
        `registry's digest for the blob pushed to ${repositoryName(repo)}`,
        digest,
        answered,
      );
    }
  }

  /** A blob's bytes, checked against its digest. */
  async getBlob(repo: RepositoryRef, digest: string): Promise<Buffer> {
    assertDigest(digest);
    return this.readBlob(repo, digest, async (response) => {
      const bytes = Buffer.from(await response.arrayBuffer());
      const actual = digestLike(digest, bytes);
      if (actual !== digest) throw new DigestMismatchError(`blob of ${repositoryName(repo)}`, digest, actual);
      return bytes;
    });
  }

  /**
   * Streams a blob to `path` (via `path.partial`, renamed only once the digest matched); returns its size.
   */
  async downloadBlob(
    repo: RepositoryRef,
    digest: string,
    path: string,
  ): Promise<{ digest: string; size: number }> {
    assertDigest(digest);
    const partial = `${path}.partial`;
    return this.readBlob(repo, digest, async (response) => {
      const { hash, algorithm } = hasherFor(digest);
      const counter = { bytes: 0 };
      try {
        const stream = (response.body ?? []) as AsyncIterable<Uint8Array>;
        const body = Readable.from(hashing(stream, hash, counter));
        await pipeline(body, createWriteStream(partial));
        const actual = `${algorithm}:${hash.digest("hex")}`;
        if (actual !== digest)
          throw new DigestMismatchError(`blob of ${repositoryName(repo)}`, digest, actual);
        await rename(partial, path);
        return { digest, size: counter.bytes };
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    });
  }

  /** GETs a blob and reads its body with `read`, both in one retried attempt (its timeout fits the Content-Length). */
  private readBlob<T>(
    repo: RepositoryRef,
    digest: string,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    return this.transport.request(
      {
        method: "GET",
        what: `GET blob ${digest} from ${repositoryName(repo)}`,
        scope: scope(repo, PULL),
        path: v2(repo, `blobs/${digest}`),
        accept: [200, 404],
      },
      async (response) => {
        if (response.status === 404) throw new Error(`blob ${digest} not found in ${repositoryName(repo)}`);
        return read(response);
      },
    );
  }

  // ---- referrers -------------------------------------------------------------------------------

  /**
   * Manifests that refer to `subjectDigest` (signatures, SBOMs, attestations), optionally only one
   * artifactType. Uses the referrers API; when the registry has none (404), the `sha256-<hex>` tag index.
   */
  async listReferrers(
    repo: RepositoryRef,
    subjectDigest: string,
    artifactType?: string,
  ): Promise<ReferrersList> {
    assertDigest(subjectDigest, "subject digest");
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    let path: string | undefined = v2(repo, `referrers/${subjectDigest}${query}`);
    const descriptors: Descriptor[] = [];
    let filtered = false;
    while (path !== undefined) {
      const page = await this.transport.request(
        {
          method: "GET",
          what: `GET referrers of ${repositoryName(repo)}@${subjectDigest}`,
          scope: scope(repo, PULL),
          path,
          headers: { Accept: OCI_IMAGE_INDEX },
          accept: [200, 404],
        },
        async (response) =>
          response.status === 404
            ? undefined
            : {
                bytes: await readLimited(response, MAX_MANIFEST_BYTES, `referrers of ${subjectDigest}`),
                contentType: response.headers.get("content-type"),
                filters: response.headers.get("oci-filters-applied"),
                link: response.headers.get("link"),
              },
      );
      if (!page) {
        if (descriptors.length > 0) break;
        return this.listReferrersByTag(repo, subjectDigest, artifactType);
      }
      const { manifest } = parseManifest(page.bytes, page.contentType, `referrers of ${subjectDigest}`);
      if (!isIndex(manifest))
        throw new ManifestError(
          `referrers of ${subjectDigest}: the registry answered with something that is not an image index`,
        );
      descriptors.push(...manifest.manifests);
      filtered ||= /\bartifactType\b/.test(page.filters ?? "");
      path = parseLinkNext(page.link, this.transport.baseUrl(repo.registry));
    }
    return {
      descriptors: filtered ? descriptors : filterByArtifactType(descriptors, artifactType),
      source: "referrers-api",
    };
  }

  private async listReferrersByTag(
    repo: RepositoryRef,
    subjectDigest: string,
    artifactType?: string,
  ): Promise<ReferrersList> {
    const fetched = await this.getManifest({ ...repo, tag: referrersTag(subjectDigest) });
    if (!fetched) return { descriptors: [], source: "tag-schema" };
    if (!isIndex(fetched.manifest)) {
      throw new ManifestError(
        `${repositoryName(repo)}:${referrersTag(subjectDigest)} is not an image index, so it holds no referrers`,
      );
    }
    return {
      descriptors: filterByArtifactType(fetched.manifest.manifests, artifactType),
      source: "tag-schema",
    };
  }

  /**
   * Pushes a manifest that has a `subject` and makes it findable as a referrer: registries with the
   * referrers API index it themselves (they answer with OCI-Subject); for the others the descriptor
   * is added to the `sha256-<hex>` tag index, keeping the entries already there.
   */
  async pushReferrer(
    repo: RepositoryRef,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; source: ReferrersSource; indexDigest?: string }> {
    const { manifest } = parseManifest(bytes, mediaType, `referrer manifest for ${repositoryName(repo)}`);
    const subject = manifest.subject?.digest;
    if (!subject)
      throw new ManifestError(`referrer manifest for ${repositoryName(repo)} has no subject descriptor`);
    const digest = sha256Digest(bytes);
    const put = await this.putManifestResponse({ ...repo, digest }, bytes, mediaType);
    if (put.subject === subject) return { digest, source: "referrers-api" };
    const indexDigest = await this.addToReferrersTagIndex(
      repo,
      subject,
      referrerDescriptor(manifest, mediaType, digest, bytes.length),
    );
    return { digest, source: "tag-schema", indexDigest };
  }

  /** Adds a descriptor to the `sha256-<hex>` fallback index of `subjectDigest`; returns the index digest. */
  async addToReferrersTagIndex(
    repo: RepositoryRef,
    subjectDigest: string,
    descriptor: Descriptor,
  ): Promise<string> {
    assertDigest(subjectDigest, "subject digest");
    const tag = referrersTag(subjectDigest);
    const current = await this.getManifest({ ...repo, tag });
    const { index, changed } = addReferrer(current?.manifest, descriptor, `${repositoryName(repo)}:${tag}`);
    if (!changed && current) return current.digest;
    return this.putManifest({ ...repo, tag }, Buffer.from(JSON.stringify(index)), OCI_IMAGE_INDEX);
  }
}
