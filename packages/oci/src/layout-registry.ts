import { createHash, randomUUID, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { InputError, type Logger } from "@frostyard/kit";
import { MAX_MANIFEST_BYTES } from "./client";
import { digestProblem } from "./digest";
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

/**
 * An OCI image layout served over the distribution HTTP API on loopback, so the pipeline's stages
 * (RegistryClient, cosign, skopeo, podman) need no second code path for "no registry given", and what
 * stays on disk is a plain layout that `skopeo copy oci:<dir>:<tag> docker://…` can publish later.
 * One repository; no referrers API (clients fall back to `sha256-<hex>` tags, as on distribution 2.8).
 */
export interface LayoutRegistryOptions {
  layout: string;
  repository: string;
  logger?: Logger;
  host?: "127.0.0.1";
}

export interface LayoutRegistry {
  /** `127.0.0.1:<port>`: the registry part of references. */
  host: string;
  url: string;
  /** `<host>/<repository>[:tag]`. */
  reference(tag?: string): string;
  close(): Promise<void>;
}

export type LayoutRoute =
  | { kind: "base" }
  | { kind: "manifest"; reference: string }
  | { kind: "blob"; digest: string }
  | { kind: "uploads" }
  | { kind: "upload"; uuid: string }
  | { kind: "tags" }
  | { kind: "referrers" }
  | { kind: "unknown-repository"; name: string }
  | { kind: "not-found" };

const API = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\/(.+)$/;
const SECTIONS = ["manifests", "blobs", "tags", "referrers"];
const TAG = /^[\w][\w.-]{0,127}$/;

/** Which endpoint a (decoded) request path names, for the one repository served. */
export function routeRequest(pathname: string, repository: string): LayoutRoute {
  if (pathname === "/v2/" || pathname === "/v2") return { kind: "base" };
  const prefix = `/v2/${repository}/`;
  const [section, ...rest] = pathname.slice(prefix.length).split("/");
  // `/v2/os/snow/extra/manifests/…` starts like ours but names the repository os/snow/extra.
  if (!pathname.startsWith(prefix) || !SECTIONS.includes(section!)) {
    const match = API.exec(pathname);
    return match ? { kind: "unknown-repository", name: match[1]! } : { kind: "not-found" };
  }
  const single = rest.length === 1 && rest[0] !== "" ? rest[0]! : undefined;
  if (section === "manifests" && single) return { kind: "manifest", reference: single };
  if (section === "tags" && single === "list") return { kind: "tags" };
  if (section === "referrers" && single) return { kind: "referrers" };
  if (section === "blobs" && rest[0] === "uploads") {
    if (rest.length === 1 || (rest.length === 2 && rest[1] === "")) return { kind: "uploads" };
    if (rest.length === 2) return { kind: "upload", uuid: rest[1]! };
  }
  if (section === "blobs" && single) return { kind: "blob", digest: single };
  return { kind: "not-found" };
}

/** The first byte of a PATCH's `Content-Range` (`<start>-<end>`), or undefined when absent or malformed. */
export function contentRangeStart(header: string | undefined): number | undefined {
  const match = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header?.trim() ?? "");
  return match && Number(match[1]) <= Number(match[2]) ? Number(match[1]) : undefined;
}

/** One page of a sorted tag list after `last`, at most `n` long; `more` when tags remain. */
export function pageTags(sorted: string[], n?: number, last?: string): { tags: string[]; more: boolean } {
  const after = last === undefined ? sorted : sorted.filter((t) => t > last);
  if (n === undefined) return { tags: after, more: false };
  return { tags: after.slice(0, n), more: after.length > n };
}

/** A distribution API error: the status and the `{"errors":[{code,message}]}` body clients parse. */
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

/** A manifest reference: a sha256 digest, or a tag that is also a valid OCI ref name. */
export function checkManifestReference(reference: string): { tag: string } | { digest: string } {
  if (reference.includes(":")) return { digest: checkBlobDigest(reference) };
  if (!TAG.test(reference) || !isValidRefName(reference)) {
    throw new RegistryApiError(
      400,
      "TAG_INVALID",
      `tag ${JSON.stringify(reference)} is not valid; expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} with no doubled separators`,
    );
  }
  return { tag: reference };
}

/** Throws an InputError unless `repository` is a bare repository path (no registry, tag or digest). */
export function checkRepository(repository: string): void {
  const accepted = "lowercase path components separated by /, like os/snow";
  let parsed;
  try {
    parsed = parseReference(`127.0.0.1/${repository}`);
  } catch (error) {
    throw new InputError("repository", (error as Error).message, accepted);
  }
  if (parsed.repository !== repository || parsed.tag !== undefined || parsed.digest !== undefined) {
    throw new InputError("repository", `${JSON.stringify(repository)} carries a tag or digest`, accepted);
  }
}

interface Upload {
  path: string;
  size: number;
  hash: Hash;
}

export async function serveLayout(options: LayoutRegistryOptions): Promise<LayoutRegistry> {
  const { layout, repository, logger } = options;
  const bind = options.host ?? "127.0.0.1";
  if (bind !== "127.0.0.1") {
    throw new InputError("host", `${JSON.stringify(bind)} is not loopback`, '"127.0.0.1"');
  }
  checkRepository(repository);
  await initLayout(layout);
  const uploadsDir = join(layout, ".uploads");
  await mkdir(uploadsDir, { recursive: true });
  const uploads = new Map<string, Upload>();
  let indexQueue: Promise<unknown> = Promise.resolve();
  /** index.json is read-modify-written: one change at a time, or concurrent tag pushes lose entries. */
  const serially = <T>(change: () => Promise<T>): Promise<T> => {
    const done = indexQueue.then(change, change);
    indexQueue = done.catch(() => undefined);
    return done;
  };

  const findManifest = async (reference: string): Promise<Descriptor | undefined> => {
    const wanted = checkManifestReference(reference);
    const { manifests } = await readIndex(layout);
    if ("tag" in wanted) return manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === wanted.tag);
    const entry = manifests.find((m) => m.digest === wanted.digest);
    if (entry || !(await hasBlob(layout, wanted.digest))) return entry;
    // Children of an index are blobs with no index.json entry: their own bytes say what they are.
    const { size } = await stat(blobPath(layout, wanted.digest));
    if (size > MAX_MANIFEST_BYTES) return undefined;
    try {
      const bytes = await readBlob(layout, wanted.digest);
      return { mediaType: parseManifest(bytes).mediaType, digest: wanted.digest, size };
    } catch {
      return undefined;
    }
  };

  const putManifest = async (reference: string, request: IncomingMessage): Promise<string> => {
    const wanted = checkManifestReference(reference);
    const bytes = await readBody(request, MAX_MANIFEST_BYTES);
    let parsed;
    try {
      parsed = parseManifest(bytes, request.headers["content-type"], `manifest ${repository}:${reference}`);
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
      if (digestProblem(blob.digest) || !(await hasBlob(layout, blob.digest))) {
        throw new RegistryApiError(
          400,
          "MANIFEST_BLOB_UNKNOWN",
          `manifest references ${blob.digest}, which was not pushed`,
        );
      }
    }
    await writeBlob(layout, bytes);
    const descriptor = { mediaType: parsed.mediaType, digest, size: bytes.length };
    await serially(async () => {
      if ("tag" in wanted) return addManifest(layout, descriptor, { refName: wanted.tag });
      const { manifests } = await readIndex(layout);
      if (!manifests.some((m) => m.digest === digest)) await addManifest(layout, descriptor);
    });
    return digest;
  };

  const deleteManifest = (reference: string): Promise<boolean> => {
    const wanted = checkManifestReference(reference);
    return serially(async () => {
      const index = await readIndex(layout);
      const kept = index.manifests.filter((m) =>
        "tag" in wanted ? m.annotations?.[ANNOTATION_REF_NAME] !== wanted.tag : m.digest !== wanted.digest,
      );
      if (kept.length === index.manifests.length) return false;
      await writeIndex(layout, { ...index, manifests: kept });
      return true;
    });
  };

  const append = async (upload: Upload, uuid: string, request: IncomingMessage): Promise<void> => {
    try {
      await pipeline(
        request,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            upload.hash.update(chunk);
            upload.size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(upload.path, { flags: "a" }),
      );
    } catch (error) {
      // The file and the hash no longer agree on what arrived: the client has to start over.
      await dropUpload(uuid);
      throw error;
    }
  };
  const dropUpload = async (uuid: string): Promise<void> => {
    const upload = uploads.get(uuid);
    uploads.delete(uuid);
    if (upload) await rm(upload.path, { force: true });
  };
  const finishUpload = async (uuid: string, upload: Upload, given: string | null): Promise<string> => {
    try {
      if (given === null) throw new RegistryApiError(400, "DIGEST_INVALID", "the final PUT has no ?digest=");
      const digest = checkBlobDigest(given);
      const actual = `sha256:${upload.hash.digest("hex")}`;
      if (actual !== digest) {
        throw new RegistryApiError(
          400,
          "DIGEST_INVALID",
          `uploaded content digest ${actual} does not match the given ${digest}`,
        );
      }
      await rename(upload.path, blobPath(layout, digest));
      return digest;
    } finally {
      await dropUpload(uuid);
    }
  };
  const openUpload = async (): Promise<[string, Upload]> => {
    const uuid = randomUUID();
    const upload = { path: join(uploadsDir, uuid), size: 0, hash: createHash("sha256") };
    await rm(upload.path, { force: true });
    uploads.set(uuid, upload);
    return [uuid, upload];
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://layout");
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      throw new RegistryApiError(
        400,
        "NAME_INVALID",
        `request path ${url.pathname} is not valid percent-encoding`,
      );
    }
    const route = routeRequest(pathname, repository);
    const method = request.method ?? "GET";
    const base = `/v2/${repository}`;
    const send = (status: number, headers: Record<string, string | number> = {}, body?: string | Buffer) => {
      response.writeHead(status, {
        "Content-Length": body === undefined ? 0 : Buffer.byteLength(body),
        ...headers,
      });
      response.end(method === "HEAD" ? undefined : body);
    };
    const uploadHeaders = (uuid: string, upload: Upload) => ({
      Location: `${base}/blobs/uploads/${uuid}`,
      Range: `0-${Math.max(upload.size - 1, 0)}`,
      "Docker-Upload-UUID": uuid,
    });
    const is = (...methods: string[]) => {
      if (!methods.includes(method))
        throw new RegistryApiError(405, "UNSUPPORTED", `${method} ${pathname} is not supported`);
    };

    switch (route.kind) {
      case "base":
        is("GET", "HEAD");
        return send(200, { "Content-Type": "application/json" }, "{}");
      case "unknown-repository":
        throw new RegistryApiError(
          404,
          "NAME_UNKNOWN",
          `repository ${route.name} is not known; this registry serves only ${repository}`,
        );
      case "referrers":
        throw new RegistryApiError(
          404,
          "NOT_FOUND",
          "no referrers API here; referrers are listed under the sha256-<hex> tag",
        );
      case "not-found":
        throw new RegistryApiError(
          404,
          "NOT_FOUND",
          `${pathname} is not a distribution API endpoint; this registry serves /v2/${repository}/{manifests,blobs,tags}`,
        );
      case "tags": {
        is("GET");
        const { manifests } = await readIndex(layout);
        const names = [
          ...new Set(
            manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]).filter((n) => n !== undefined),
          ),
        ].sort();
        const n = url.searchParams.get("n");
        if (n !== null && !/^[1-9]\d{0,5}$/.test(n)) {
          throw new RegistryApiError(
            400,
            "PAGINATION_NUMBER_INVALID",
            `n=${n} is not a number from 1 to 999999`,
          );
        }
        const last = url.searchParams.get("last") ?? undefined;
        const page = pageTags(names, n === null ? undefined : Number(n), last);
        const link: Record<string, string> = page.more
          ? { Link: `<${base}/tags/list?n=${n}&last=${encodeURIComponent(page.tags.at(-1)!)}>; rel="next"` }
          : {};
        return send(
          200,
          { "Content-Type": "application/json", ...link },
          JSON.stringify({ name: repository, tags: page.tags }),
        );
      }
      case "manifest": {
        is("GET", "HEAD", "PUT", "DELETE");
        if (method === "PUT") {
          const digest = await putManifest(route.reference, request);
          return send(201, { Location: `${base}/manifests/${digest}`, "Docker-Content-Digest": digest });
        }
        if (method === "DELETE") {
          if (await deleteManifest(route.reference)) return send(202);
          throw new RegistryApiError(
            404,
            "MANIFEST_UNKNOWN",
            `manifest ${repository}:${route.reference} is not known`,
          );
        }
        const found = await findManifest(route.reference);
        if (!found)
          throw new RegistryApiError(
            404,
            "MANIFEST_UNKNOWN",
            `manifest ${repository}:${route.reference} is not known`,
          );
        const bytes = await readBlob(layout, found.digest);
        return send(200, { "Content-Type": found.mediaType, "Docker-Content-Digest": found.digest }, bytes);
      }
      case "blob": {
        is("GET", "HEAD");
        const digest = checkBlobDigest(route.digest);
        const size = await stat(blobPath(layout, digest)).then(
          (s) => s.size,
          () => undefined,
        );
        if (size === undefined)
          throw new RegistryApiError(404, "BLOB_UNKNOWN", `blob ${digest} is not in ${repository}`);
        response.writeHead(200, {
          "Content-Type": "application/octet-stream",
          "Content-Length": size,
          "Docker-Content-Digest": digest,
        });
        if (method === "HEAD") return void response.end();
        return pipeline(createReadStream(blobPath(layout, digest)), response);
      }
      case "uploads": {
        is("POST");
        const digest = url.searchParams.get("digest");
        if (digest !== null) checkBlobDigest(digest);
        const [uuid, upload] = await openUpload();
        if (digest === null) {
          // mount=/from= land here too: one repository, so nothing can be mounted from another.
          request.resume();
          return send(202, uploadHeaders(uuid, upload));
        }
        await append(upload, uuid, request);
        const stored = await finishUpload(uuid, upload, digest);
        return send(201, { Location: `${base}/blobs/${stored}`, "Docker-Content-Digest": stored });
      }
      case "upload": {
        is("GET", "PATCH", "PUT", "DELETE");
        const upload = uploads.get(route.uuid);
        if (!upload)
          throw new RegistryApiError(404, "BLOB_UPLOAD_UNKNOWN", `upload ${route.uuid} is not in progress`);
        if (method === "GET") return send(204, uploadHeaders(route.uuid, upload));
        if (method === "DELETE") return dropUpload(route.uuid).then(() => send(204));
        const range = request.headers["content-range"];
        if (range !== undefined && contentRangeStart(range) !== upload.size) {
          throw new RegistryApiError(
            416,
            "BLOB_UPLOAD_INVALID",
            `Content-Range ${range} does not start at byte ${upload.size}, where the upload is`,
          );
        }
        await append(upload, route.uuid, request);
        if (method === "PATCH") return send(202, uploadHeaders(route.uuid, upload));
        const stored = await finishUpload(route.uuid, upload, url.searchParams.get("digest"));
        return send(201, { Location: `${base}/blobs/${stored}`, "Docker-Content-Digest": stored });
      }
    }
  };

  const server = createServer((request, response) => {
    response.setHeader("Docker-Distribution-API-Version", "registry/2.0");
    handle(request, response).then(
      () => logger?.debug(`layout registry: ${request.method} ${request.url} → ${response.statusCode}`),
      (error: unknown) => {
        const known = error instanceof RegistryApiError;
        const what = `layout registry: ${request.method} ${request.url}`;
        // A client may hang up mid-blob (it had enough, or was cancelled): routine, not our failure.
        const hungUp = (error as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE";
        if (known || hungUp) logger?.debug(`${what}: ${(error as Error).message}`);
        else logger?.warning(`${what}: ${(error as Error).message}`);
        if (response.headersSent || hungUp) return void response.destroy();
        const status = known ? error.status : 500;
        const body = JSON.stringify({
          errors: [{ code: known ? error.code : "UNKNOWN", message: (error as Error).message }],
        });
        // The request body may still be arriving; answer anyway and drop the rest.
        request.resume();
        response.writeHead(status, {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
        });
        response.end(request.method === "HEAD" ? undefined : body);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, bind, () => resolve());
  });
  const host = `${bind}:${(server.address() as AddressInfo).port}`;
  logger?.info(`serving the OCI layout ${layout} as ${host}/${repository}`);

  let closing: Promise<void> | undefined;
  return {
    host,
    url: `http://${host}`,
    reference(tag?: string): string {
      if (tag === undefined) return `${host}/${repository}`;
      if (!TAG.test(tag) || !isValidRefName(tag)) {
        const accepted = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127} with no doubled separators";
        throw new InputError("tag", `${JSON.stringify(tag)} is not a tag this layout can hold`, accepted);
      }
      return `${host}/${repository}:${tag}`;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await indexQueue;
        await rm(uploadsDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** A request body up to `limit` bytes (manifests only: blobs are streamed to disk). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit)
      throw new RegistryApiError(413, "SIZE_INVALID", `manifest is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
