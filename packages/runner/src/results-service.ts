import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { BlobStorage } from "./azurite";
import type { HostedStore } from "./hosted-store";
import { StoreConflict, StoreNotFound, type Artifact } from "./hosted-store";
import { RuntimeTokenError, verifyRuntimeToken, type RunIds } from "./runtime-token";

/**
 * The transport of the local results service (ACTIONS_RESULTS_URL): Twirp over HTTP with JSON bodies,
 * only the RPCs @actions/cache (cache service v2) and @actions/artifact call. Each request is checked
 * against the runtime token, answered from the HostedStore, and given signed URLs into blob storage;
 * the bytes never pass through here.
 */

const CACHE = "github.actions.results.api.v1.CacheService";
const ARTIFACTS = "github.actions.results.api.v1.ArtifactService";

/** Twirp's error codes and the HTTP status each travels with. */
const TWIRP_STATUS = {
  malformed: 400,
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  internal: 500,
} as const;
type TwirpCode = keyof typeof TWIRP_STATUS;

export class TwirpError extends Error {
  constructor(
    readonly code: TwirpCode,
    message: string,
  ) {
    super(message);
    this.name = "TwirpError";
  }
}

type Body = Record<string, unknown>;
type Handler = (body: Body, caller: RunIds) => Promise<Body>;

export interface ResultsServiceDeps {
  store: HostedStore;
  blobs: Pick<BlobStorage, "signedUrl" | "size" | "remove">;
  tokenSecret: Buffer;
  /** Called after every change to the store (the CLI persists it). */
  onChange?: () => Promise<void>;
}

function text(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value === "") {
    throw new TwirpError("invalid_argument", `${field} is required`);
  }
  return value;
}

/** int64 fields arrive as JSON strings (proto3 JSON), sometimes as numbers. */
function int64(body: Body, field: string): number {
  const value = body[field];
  const parsed = typeof value === "string" || typeof value === "number" ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 0) {
    throw new TwirpError("invalid_argument", `${field} must be a non-negative integer`);
  }
  return parsed;
}

/** Artifacts belong to a workflow run: a request for another run than the token's is refused. */
function sameRun(body: Body, caller: RunIds): string {
  const run = text(body, "workflow_run_backend_id");
  text(body, "workflow_job_run_backend_id");
  if (run !== caller.workflowRunBackendId) {
    throw new TwirpError("permission_denied", `the runtime token is not valid for workflow run ${run}`);
  }
  return run;
}

function artifactJson(artifact: Artifact): Body {
  return {
    workflow_run_backend_id: artifact.workflowRunBackendId,
    workflow_job_run_backend_id: artifact.workflowJobRunBackendId,
    database_id: String(artifact.id),
    name: artifact.name,
    size: String(artifact.sizeBytes ?? 0),
    created_at: artifact.createdAt,
    ...(artifact.digest ? { digest: artifact.digest } : {}),
  };
}

/** The file name a download gets: zip archives as <name>.zip, single files (skipArchive) as themselves. */
function downloadName(artifact: Artifact): string {
  return artifact.mimeType === "application/zip" ? `${artifact.name}.zip` : artifact.name;
}

export function resultsHandlers(deps: ResultsServiceDeps): Record<string, Handler> {
  const { store, blobs } = deps;
  const changed = async () => deps.onChange?.();
  return {
    [`${CACHE}/CreateCacheEntry`]: async (body) => {
      const entry = store.createCacheEntry(text(body, "key"), text(body, "version"));
      await changed();
      return { ok: true, signed_upload_url: blobs.signedUrl(entry.blob, "cw") };
    },
    [`${CACHE}/FinalizeCacheEntryUpload`]: async (body) => {
      const key = text(body, "key");
      const version = text(body, "version");
      const pending = store.pendingCacheEntry(key, version);
      const size = await blobs.size(pending.blob);
      if (size === undefined) {
        return { ok: false, message: `cache entry ${key}: nothing was uploaded to its signed URL` };
      }
      const entry = store.finalizeCacheEntry(key, version, size);
      await changed();
      return { ok: true, entry_id: String(entry.id) };
    },
    [`${CACHE}/GetCacheEntryDownloadURL`]: async (body) => {
      const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys.map(String) : [];
      const entry = store.findCacheEntry(text(body, "key"), restoreKeys, text(body, "version"));
      if (!entry) return { ok: false };
      return { ok: true, signed_download_url: blobs.signedUrl(entry.blob, "r"), matched_key: entry.key };
    },
    [`${ARTIFACTS}/CreateArtifact`]: async (body, caller) => {
      sameRun(body, caller);
      const mimeType = typeof body.mime_type === "string" ? body.mime_type : "application/zip";
      const artifact = store.createArtifact(
        caller,
        text(body, "name"),
        mimeType,
        typeof body.expires_at === "string" ? body.expires_at : undefined,
      );
      await changed();
      return { ok: true, signed_upload_url: blobs.signedUrl(artifact.blob, "cw") };
    },
    [`${ARTIFACTS}/FinalizeArtifact`]: async (body, caller) => {
      const run = sameRun(body, caller);
      const name = text(body, "name");
      const pending = store.artifact(run, name, true);
      const size = await blobs.size(pending.blob);
      if (size === undefined) {
        throw new TwirpError("not_found", `artifact ${name}: nothing was uploaded to its signed URL`);
      }
      if (size !== int64(body, "size")) {
        throw new TwirpError(
          "invalid_argument",
          `artifact ${name}: ${size} bytes uploaded, ${body.size} declared`,
        );
      }
      const artifact = store.finalizeArtifact(
        run,
        name,
        size,
        typeof body.hash === "string" ? body.hash : undefined,
      );
      await changed();
      return { ok: true, artifact_id: String(artifact.id) };
    },
    [`${ARTIFACTS}/ListArtifacts`]: async (body, caller) => {
      const run = sameRun(body, caller);
      const filter: { name?: string; id?: number } = {};
      if (body.name_filter !== undefined) filter.name = String(body.name_filter);
      if (body.id_filter !== undefined) filter.id = int64(body, "id_filter");
      return { artifacts: store.listArtifacts(run, filter).map(artifactJson) };
    },
    [`${ARTIFACTS}/GetSignedArtifactURL`]: async (body, caller) => {
      const artifact = store.artifact(sameRun(body, caller), text(body, "name"));
      const name = downloadName(artifact);
      return {
        signed_url: blobs.signedUrl(artifact.blob, "r", {
          contentDisposition: `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        }),
      };
    },
    [`${ARTIFACTS}/DeleteArtifact`]: async (body, caller) => {
      const run = sameRun(body, caller);
      const artifact = store.deleteArtifact(run, text(body, "name"));
      await blobs.remove(artifact.blob);
      await changed();
      return { ok: true, artifact_id: String(artifact.id) };
    },
  };
}

export interface ServedRequest {
  method: string;
  status: number;
}

export interface ResultsService {
  /** ACTIONS_RESULTS_URL: `http://127.0.0.1:PORT/`. */
  url: string;
  /** Every RPC answered, in order (method as `Service/Method`, HTTP status). */
  requests: ServedRequest[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function reply(response: ServerResponse, status: number, body: Body): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function twirpError(error: unknown): TwirpError {
  if (error instanceof TwirpError) return error;
  if (error instanceof StoreConflict) return new TwirpError("already_exists", error.message);
  if (error instanceof StoreNotFound) return new TwirpError("not_found", error.message);
  if (error instanceof RuntimeTokenError) return new TwirpError("unauthenticated", error.message);
  return new TwirpError("internal", (error as Error)?.message ?? String(error));
}

/** Serves the handlers on a free loopback port. */
export async function startResultsService(deps: ResultsServiceDeps): Promise<ResultsService> {
  const handlers = resultsHandlers(deps);
  const requests: ServedRequest[] = [];
  const server = createServer((request, response) => {
    const route =
      /^\/twirp\/([\w.]+\/\w+)$/.exec(new URL(request.url ?? "/", "http://x").pathname)?.[1] ?? "";
    void (async () => {
      let status = 200;
      try {
        const handler = handlers[route];
        if (request.method !== "POST" || !handler) {
          throw new TwirpError("bad_route", `no such RPC: ${request.method} ${request.url}`);
        }
        const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
        if (!token) throw new TwirpError("unauthenticated", "no runtime token (Authorization: Bearer)");
        const caller = verifyRuntimeToken(token, deps.tokenSecret);
        let body: Body;
        try {
          body = JSON.parse((await readBody(request)) || "{}") as Body;
        } catch {
          throw new TwirpError("malformed", "the body is not JSON");
        }
        reply(response, 200, await handler(body, caller));
      } catch (error) {
        const twirp = twirpError(error);
        status = TWIRP_STATUS[twirp.code];
        reply(response, status, { code: twirp.code, msg: twirp.message });
      }
      requests.push({ method: route || (request.url ?? ""), status });
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
