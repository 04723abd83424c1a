import { HttpStatusError, parseRetryAfter, retry, type Logger, type RetryOptions } from "@frostyard/kit";
import { Authenticator, type AuthScope } from "./auth";
import type { CredentialStore } from "./credentials";
import { allowsPlainHttp, registryBaseUrl } from "./endpoint";

/** Requests sent, for benchmarks and tests: every HTTP exchange (token requests and retries included). */
export interface RequestStats {
  requests: number;
  byMethod: Record<string, number>;
}

export type FetchLike = (input: URL, init: RequestInit) => Promise<Response>;

/** Something a request body can be made from again, for retries and the resend after a 401. */
export type ReplayableBody = Buffer | (() => AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>);

export interface RegistryRequest {
  method: string;
  scope: AuthScope;
  /** `/v2/…` on the registry, or an absolute URL the registry gave (upload Location, Link). */
  path: string;
  headers?: Record<string, string>;
  body?: ReplayableBody;
  /** Statuses returned to the caller; any other status throws. */
  accept: readonly number[];
  /** Abort after this long; `null` for transfers whose length is unbounded (blobs). Default from the transport. */
  timeoutMs?: number | null;
  /** `false` when the caller retries a larger unit itself (an upload session, a streamed download). */
  retry?: boolean;
}

export interface TransportOptions {
  logger?: Logger;
  credentials?: CredentialStore;
  insecureRegistries?: readonly string[];
  fetch?: FetchLike;
  retry?: RetryOptions;
  userAgent?: string;
  /** Per-request timeout for metadata requests; default 60 s. */
  timeoutMs?: number;
  /** Clock for token expiry; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_USER_AGENT = "frostyard-build (@frostyard/oci)";

/** What a registry says in its JSON error body: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]}`. */
export function registryErrorSummary(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const errors = parsed.errors?.map((e) => [e.code, e.message].filter(Boolean).join(": ")).filter(Boolean);
    return errors && errors.length > 0 ? errors.join("; ") : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The HTTP edge of the registry client: scheme choice, auth (401 → challenge → retry once), retries
 * of transient failures, timeouts and request counting. Nothing here knows about manifests or blobs.
 */
export class RegistryTransport {
  readonly stats: RequestStats = { requests: 0, byMethod: {} };
  private readonly authenticator: Authenticator;
  private readonly fetchImpl: FetchLike;
  private readonly options: TransportOptions;

  constructor(options: TransportOptions = {}) {
    this.options = options;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.authenticator = new Authenticator({
      credentials: options.credentials,
      transport: (url, init) => this.fetchCounted(url, init),
      allowPlainHttp: (host) => allowsPlainHttp(host, options.insecureRegistries),
      logger: options.logger,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get logger(): Logger | undefined {
    return this.options.logger;
  }

  /** Runs `fn` under the client's retry policy (transient errors only), logging each retry. */
  withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const policy = this.options.retry ?? {};
    return retry(() => fn(), {
      ...policy,
      onRetry: (info) => {
        this.options.logger?.warning(
          `${what} failed (attempt ${info.attempt}): ${(info.error as Error).message ?? info.error}; retrying in ${info.delayMs} ms`,
        );
        policy.onRetry?.(info);
      },
    });
  }

  baseUrl(registry: string): string {
    return registryBaseUrl(registry, this.options.insecureRegistries);
  }

  /** Resolves a path or a registry-given URL, refusing a switch to plain HTTP for a host that must use HTTPS. */
  resolveUrl(registry: string, path: string): URL {
    const url = new URL(path, this.baseUrl(registry));
    if (url.protocol === "http:" && !allowsPlainHttp(url.host, this.options.insecureRegistries)) {
      throw new Error(
        `${registry} sent the client to ${url.origin}, which is plain HTTP; only loopback registries and insecure-registries hosts may use HTTP`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`${registry} sent the client to ${url.protocol} URL ${url.origin}; expected http(s)`);
    }
    return url;
  }

  /** Sends a request; returns the response for an accepted status (body unread), throws otherwise. */
  send(request: RegistryRequest): Promise<Response> {
    const what = `${request.method} ${request.scope.registry}/${request.scope.repository}`;
    return request.retry === false
      ? this.sendOnce(request)
      : this.withRetry(what, () => this.sendOnce(request));
  }

  private async sendOnce(request: RegistryRequest): Promise<Response> {
    const url = this.resolveUrl(request.scope.registry, request.path);
    const shown = { method: request.method, url: `${url.origin}${url.pathname}` };
    let authorization = await this.authenticator.authorization(request.scope);
    let response = await this.exchange(url, request, authorization);
    if (response.status === 401) {
      const challenge = response.headers.get("www-authenticate");
      await response.body?.cancel();
      authorization = await this.authenticator.unauthorized(request.scope, challenge, shown, authorization);
      response = await this.exchange(url, request, authorization);
    }
    if (request.accept.includes(response.status)) return response;
    const body = await response.text().catch(() => "");
    if (response.status === 401 || response.status === 403) {
      throw await this.authenticator.authError(
        request.scope,
        shown,
        response.status,
        registryErrorSummary(body),
      );
    }
    throw new HttpStatusError({
      status: response.status,
      method: request.method,
      url: shown.url,
      body: registryErrorSummary(body) ?? body,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    });
  }

  private exchange(url: URL, request: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { ...request.headers };
    if (authorization) headers.Authorization = authorization;
    const init: RequestInit & { duplex?: "half" } = { method: request.method, headers, redirect: "follow" };
    if (request.body !== undefined) {
      if (Buffer.isBuffer(request.body)) {
        init.body = request.body;
      } else {
        init.body = request.body() as RequestInit["body"];
        init.duplex = "half";
      }
    }
    const timeoutMs =
      request.timeoutMs === undefined ? (this.options.timeoutMs ?? 60_000) : request.timeoutMs;
    if (timeoutMs !== null) init.signal = AbortSignal.timeout(timeoutMs);
    return this.fetchCounted(url, init);
  }

  private fetchCounted(url: URL, init: RequestInit): Promise<Response> {
    const method = init.method ?? "GET";
    init.headers = {
      "User-Agent": this.options.userAgent ?? DEFAULT_USER_AGENT,
      ...(init.headers as Record<string, string>),
    };
    this.stats.requests++;
    this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
    return this.fetchImpl(url, init);
  }
}
