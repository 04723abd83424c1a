import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import type { Logger } from "@frostyard/kit";
import { MAX_MANIFEST_BYTES } from "./client";
import { LayoutRegistryError } from "./errors";
import {
  checkBlobDigest,
  isLayoutTag,
  LAYOUT_TAG_GRAMMAR,
  LayoutStore,
  RegistryApiError,
} from "./layout-store";

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

/** One request as the handlers see it: the route's fields, the query, and how to answer. */
interface Exchange {
  method: string;
  pathname: string;
  query: URLSearchParams;
  request: IncomingMessage;
  response: ServerResponse;
  store: LayoutStore;
  /** `/v2/<repository>`, for Location and Link headers. */
  base: string;
  send(status: number, headers?: Record<string, string | number>, body?: string | Buffer): void;
}

type RouteOf<K extends LayoutRoute["kind"]> = Extract<LayoutRoute, { kind: K }>;

interface Handler<K extends LayoutRoute["kind"]> {
  /** Methods the endpoint answers; others are 405 UNSUPPORTED. Empty: the route is refused whatever the method. */
  methods: readonly string[];
  handle(exchange: Exchange, route: RouteOf<K>): Promise<void> | void;
}

const uploadHeaders = (exchange: Exchange, uuid: string): Record<string, string> => ({
  Location: `${exchange.base}/blobs/uploads/${uuid}`,
  Range: `0-${Math.max(exchange.store.uploadSize(uuid) - 1, 0)}`,
  "Docker-Upload-UUID": uuid,
});

const created = (exchange: Exchange, digest: string): void =>
  exchange.send(201, { Location: `${exchange.base}/blobs/${digest}`, "Docker-Content-Digest": digest });

/** What each route does, over the store; the server around it only routes and turns errors into answers. */
const HANDLERS: { [K in LayoutRoute["kind"]]: Handler<K> } = {
  base: {
    methods: ["GET", "HEAD"],
    handle: (x) => x.send(200, { "Content-Type": "application/json" }, "{}"),
  },
  "unknown-repository": {
    methods: [],
    handle: (x, route) => {
      throw new RegistryApiError(
        404,
        "NAME_UNKNOWN",
        `repository ${route.name} is not known; this registry serves only ${x.store.repository}`,
      );
    },
  },
  referrers: {
    methods: [],
    handle: () => {
      throw new RegistryApiError(
        404,
        "NOT_FOUND",
        "no referrers API here; referrers are listed under the sha256-<hex> tag",
      );
    },
  },
  "not-found": {
    methods: [],
    handle: (x) => {
      throw new RegistryApiError(
        404,
        "NOT_FOUND",
        `${x.pathname} is not a distribution API endpoint; this registry serves /v2/${x.store.repository}/{manifests,blobs,tags}`,
      );
    },
  },
  tags: {
    methods: ["GET"],
    handle: async (x) => {
      const names = await x.store.tags();
      const n = x.query.get("n");
      if (n !== null && !/^[1-9]\d{0,5}$/.test(n)) {
        throw new RegistryApiError(
          400,
          "PAGINATION_NUMBER_INVALID",
          `n=${n} is not a number from 1 to 999999`,
        );
      }
      const page = pageTags(names, n === null ? undefined : Number(n), x.query.get("last") ?? undefined);
      const link: Record<string, string> = page.more
        ? { Link: `<${x.base}/tags/list?n=${n}&last=${encodeURIComponent(page.tags.at(-1)!)}>; rel="next"` }
        : {};
      x.send(
        200,
        { "Content-Type": "application/json", ...link },
        JSON.stringify({ name: x.store.repository, tags: page.tags }),
      );
    },
  },
  manifest: {
    methods: ["GET", "HEAD", "PUT", "DELETE"],
    handle: async (x, route) => {
      if (x.method === "PUT") {
        const bytes = await readBody(x.request, MAX_MANIFEST_BYTES);
        const digest = await x.store.putManifest(route.reference, bytes, x.request.headers["content-type"]);
        return x.send(201, { Location: `${x.base}/manifests/${digest}`, "Docker-Content-Digest": digest });
      }
      if (x.method === "DELETE") {
        await x.store.deleteManifest(route.reference);
        return x.send(202);
      }
      const { descriptor, bytes } = await x.store.getManifest(route.reference);
      x.send(
        200,
        { "Content-Type": descriptor.mediaType, "Docker-Content-Digest": descriptor.digest },
        bytes,
      );
    },
  },
  blob: {
    methods: ["GET", "HEAD"],
    handle: async (x, route) => {
      const digest = checkBlobDigest(route.digest);
      const { path, size } = await x.store.blob(digest);
      x.response.writeHead(200, {
        "Content-Type": "application/octet-stream",
        "Content-Length": size,
        "Docker-Content-Digest": digest,
      });
      if (x.method === "HEAD") return void x.response.end();
      await pipeline(createReadStream(path), x.response);
    },
  },
  uploads: {
    methods: ["POST"],
    handle: async (x) => {
      const digest = x.query.get("digest");
      if (digest !== null) checkBlobDigest(digest);
      const uuid = await x.store.openUpload();
      if (digest === null) {
        // mount=/from= land here too: one repository, so nothing can be mounted from another.
        x.request.resume();
        return x.send(202, uploadHeaders(x, uuid));
      }
      await x.store.append(uuid, x.request);
      created(x, await x.store.finishUpload(uuid, digest));
    },
  },
  upload: {
    methods: ["GET", "PATCH", "PUT", "DELETE"],
    handle: async (x, route) => {
      const size = x.store.uploadSize(route.uuid);
      if (x.method === "GET") return x.send(204, uploadHeaders(x, route.uuid));
      if (x.method === "DELETE") {
        await x.store.dropUpload(route.uuid);
        return x.send(204);
      }
      const range = x.request.headers["content-range"];
      if (range !== undefined && contentRangeStart(range) !== size) {
        throw new RegistryApiError(
          416,
          "BLOB_UPLOAD_INVALID",
          `Content-Range ${range} does not start at byte ${size}, where the upload is`,
        );
      }
      await x.store.append(route.uuid, x.request);
      if (x.method === "PATCH") return x.send(202, uploadHeaders(x, route.uuid));
      created(x, await x.store.finishUpload(route.uuid, x.query.get("digest")));
    },
  },
};

/** Routes one request to its handler after checking the method. */
async function dispatch(
  store: LayoutStore,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
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
  const route = routeRequest(pathname, store.repository);
  const method = request.method ?? "GET";
  const exchange: Exchange = {
    method,
    pathname,
    query: url.searchParams,
    request,
    response,
    store,
    base: `/v2/${store.repository}`,
    send(status, headers = {}, body) {
      response.writeHead(status, {
        "Content-Length": body === undefined ? 0 : Buffer.byteLength(body),
        ...headers,
      });
      response.end(method === "HEAD" ? undefined : body);
    },
  };
  const handler = HANDLERS[route.kind] as Handler<typeof route.kind>;
  if (handler.methods.length > 0 && !handler.methods.includes(method)) {
    throw new RegistryApiError(405, "UNSUPPORTED", `${method} ${pathname} is not supported`);
  }
  await (handler.handle as (x: Exchange, r: LayoutRoute) => Promise<void> | void)(exchange, route);
}

/** Answers a failed request: the spec's JSON error for refusals, 500 for anything else, nothing for a hang-up. */
function answerError(
  request: IncomingMessage,
  response: ServerResponse,
  error: unknown,
  logger?: Logger,
): void {
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
}

/**
 * Serves an OCI layout (created when missing) as the one repository `repository` on a loopback port.
 * Throws LayoutRegistryError for a host that is not loopback or a repository that is not a bare path.
 */
export async function serveLayout(options: LayoutRegistryOptions): Promise<LayoutRegistry> {
  const { layout, repository, logger } = options;
  const bind = options.host ?? "127.0.0.1";
  if (bind !== "127.0.0.1") {
    throw new LayoutRegistryError("host", bind, "it is not loopback", '"127.0.0.1"');
  }
  const store = await LayoutStore.open(layout, repository);

  const server = createServer((request, response) => {
    response.setHeader("Docker-Distribution-API-Version", "registry/2.0");
    dispatch(store, request, response).then(
      () => logger?.debug(`layout registry: ${request.method} ${request.url} → ${response.statusCode}`),
      (error: unknown) => answerError(request, response, error, logger),
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
      if (!isLayoutTag(tag)) {
        throw new LayoutRegistryError("tag", tag, "it is not a tag this layout can hold", LAYOUT_TAG_GRAMMAR);
      }
      return `${host}/${repository}:${tag}`;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await store.close();
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
