import {
  HttpStatusError,
  isTransientError,
  parseRetryAfter,
  retry,
  type Logger,
  type RetryOptions,
} from "@frostyard/kit";
import { Authenticator, type AuthScope } from "./auth";
import type { CredentialStore } from "./credentials";
import { allowsPlainHttp, registryBaseUrl } from "./endpoint";
import { describeError, RegistryRequestError } from "./errors";
import {
  cappedRetryAfter,
  DEFAULT_MAX_RETRY_AFTER_MS,
  nameAttemptFailure,
  registryRetryPolicy,
} from "./retry-policy";
import { transferDeadlineMs, Watchdog } from "./watchdog";

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
  /** What the request is for errors and logs: method, repository, digest or tag. */
  what: string;
  scope: AuthScope;
  /** `/v2/…` on the registry, or an absolute URL the registry gave (upload Location, Link). */
  path: string;
  headers?: Record<string, string>;
  body?: ReplayableBody;
  /** Statuses returned to the caller; any other status throws. */
  accept: readonly number[];
  /**
   * Bytes the request moves (body sent or expected back), when known: its deadline grows with them.
   * Without it, a response's Content-Length sets the deadline once the headers are in.
   */
  size?: number;
  /**
   * `false` when the request is one step of a larger unit the caller retries (an upload session): the
   * unit's budget then covers it, so attempts never multiply.
   */
  retry?: boolean;
}

export interface TransportOptions {
  logger?: Logger;
  credentials?: CredentialStore;
  insecureRegistries?: readonly string[];
  fetch?: FetchLike;
  /** Over DEFAULT_REGISTRY_RETRY (20 attempts within 120 s, backoff 0.5 s doubling to 10 s). */
  retry?: RetryOptions;
  /** Longest Retry-After honoured as asked; longer ones are cut to it. Default 30 s. */
  maxRetryAfterMs?: number;
  userAgent?: string;
  /**
   * Longest silence on a connection (no byte sent or received) and the deadline of a request that moves
   * no sizeable body; default 60 s. Transfers get this plus their size at `minBytesPerSecond`.
   */
  timeoutMs?: number;
  /** The slowest transfer rate tolerated when setting a transfer's deadline; default 64 KiB/s. */
  minBytesPerSecond?: number;
  /** Clock for token expiry; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MIN_BYTES_PER_SECOND = 64 * 1024;
/** Buffers above this are sent as a stream of slices of it, so the idle timeout sees progress. */
const BODY_SLICE = 1024 * 1024;

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
      // Token requests get the metadata timeout: the token service can stall like the registry.
      transport: (url, init) =>
        this.fetchCounted(url, { ...init, signal: init.signal ?? AbortSignal.timeout(this.timeoutMs) }),
      allowPlainHttp: (host) => allowsPlainHttp(host, options.insecureRegistries),
      logger: options.logger,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get logger(): Logger | undefined {
    return this.options.logger;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Runs `fn` under the client's retry policy (transient errors only), logging each retry. A failure
   * that was retried, or is itself transient, comes out as a RegistryRequestError naming `what` and the
   * attempts made; others (refused credentials, a 404, a digest mismatch) as they are.
   *
   * `bytes` the unit moves (an upload's size) lengthen its elapsed budget by their time at
   * `minBytesPerSecond`, as they lengthen an attempt's deadline: a large layer cut near its end is still
   * retried, instead of finding its 120 s spent on the first transfer.
   */
  async withRetry<T>(what: string, fn: () => Promise<T>, bytes = 0): Promise<T> {
    const base = registryRetryPolicy(this.options.retry);
    const policy = { ...base, maxElapsedMs: this.elapsedBudgetMs(base.maxElapsedMs, bytes) };
    let attempts = 0;
    try {
      return await retry(
        () => {
          attempts++;
          return fn();
        },
        {
          ...policy,
          // A unit runs its requests with `retry: false` (one budget); should a request inside `fn` still
          // have spent retries of its own, it is not retried again around them.
          isRetryable: (error) =>
            !(error instanceof RegistryRequestError) && (policy.isRetryable ?? isTransientError)(error),
          onRetry: (info) => {
            this.options.logger?.warning(
              `${what} failed (attempt ${info.attempt}): ${describeError(info.error)}; retrying in ${info.delayMs} ms`,
            );
            policy.onRetry?.(info);
          },
        },
      );
    } catch (error) {
      // One attempt that failed inside an inner request's own retries: that error already says it all.
      if (error instanceof RegistryRequestError && attempts === 1) throw error;
      if (attempts > 1 || isTransientError(error)) throw new RegistryRequestError(what, attempts, error);
      throw error;
    }
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

  /**
   * Sends a request and hands the response (accepted status, body unread) to `read`, whose work is part
   * of the attempt: a body cut short or stalled is retried with the request. The body is released after.
   */
  request<T>(request: RegistryRequest, read: (response: Response) => Promise<T>): Promise<T> {
    const attempt = async () => {
      const watchdog = new Watchdog(request.what, this.timeoutMs, this.deadlineFor(request.size));
      let response: Response | undefined;
      try {
        response = await this.sendOnce(request, watchdog);
        const length = Number(response.headers.get("content-length") ?? NaN);
        if (request.size === undefined && Number.isFinite(length)) watchdog.extend(this.deadlineFor(length));
        return await read(response);
      } finally {
        watchdog.done();
        await response?.body?.cancel().catch(() => undefined);
      }
    };
    if (request.retry !== false) return this.withRetry(request.what, attempt, request.size);
    return attempt().catch((error: unknown) => {
      throw nameAttemptFailure(request.what, error);
    });
  }

  /** Sends a request whose body the caller does not want: status and headers only. */
  send(request: RegistryRequest): Promise<Response> {
    return this.request(request, async (response) => response);
  }

  private elapsedBudgetMs(maxElapsedMs: number | undefined, bytes: number | undefined): number | undefined {
    if (maxElapsedMs === undefined || !bytes) return maxElapsedMs;
    return transferDeadlineMs(
      maxElapsedMs,
      bytes,
      this.options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND,
    );
  }

  private deadlineFor(bytes: number | undefined): number {
    const rate = this.options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
    return transferDeadlineMs(this.timeoutMs, bytes ?? 0, rate);
  }

  private async sendOnce(request: RegistryRequest, watchdog: Watchdog): Promise<Response> {
    const url = this.resolveUrl(request.scope.registry, request.path);
    const shown = { method: request.method, url: `${url.origin}${url.pathname}` };
    let authorization = await this.authenticator.authorization(request.scope);
    let response = await this.exchange(url, request, authorization, watchdog);
    if (response.status === 401) {
      const challenge = response.headers.get("www-authenticate");
      await response.body?.cancel();
      authorization = await this.authenticator.unauthorized(request.scope, challenge, shown, authorization);
      response = await this.exchange(url, request, authorization, watchdog);
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
      retryAfterMs: cappedRetryAfter(
        parseRetryAfter(response.headers.get("retry-after")),
        this.options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
      ),
    });
  }

  private async exchange(
    url: URL,
    request: RegistryRequest,
    authorization: string | undefined,
    watchdog: Watchdog,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...request.headers };
    if (authorization) headers.Authorization = authorization;
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers,
      redirect: "follow",
      signal: watchdog.signal,
    };
    const body = request.body;
    if (body !== undefined) {
      if (Buffer.isBuffer(body) && body.length <= BODY_SLICE) {
        init.body = body;
      } else {
        const source = Buffer.isBuffer(body) ? slices(body, BODY_SLICE) : body();
        init.body = progress(source, () => watchdog.touch()) as unknown as RequestInit["body"];
        init.duplex = "half";
      }
    }
    const response = await this.fetchCounted(url, init);
    watchdog.touch();
    if (response.body === null) return response;
    // Every chunk read restarts the idle timer; a body that stops arriving is aborted by it.
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          watchdog.touch();
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(watched, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
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

async function* slices(buffer: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

async function* progress(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  touch: () => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    touch();
    yield chunk;
  }
}
