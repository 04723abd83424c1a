export interface RetryOptions {
  /** Total attempts including the first; default 5. */
  attempts?: number;
  /** Backoff base: the n-th wait is drawn from [0, baseDelayMs * 2^(n-1)]; default 500. */
  baseDelayMs?: number;
  /** Cap per computed wait; default 30_000. A server's Retry-After may exceed it (see `retry`). */
  maxDelayMs?: number;
  /** Stop retrying when the next wait would end past this many ms since the first attempt; default 120_000. */
  maxElapsedMs?: number;
  /** Default `isTransientError`. */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each wait; `attempt` is the 1-based attempt that just failed. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests (jitter); returns a number in [0, 1). */
  random?: () => number;
  /** Injectable for tests; milliseconds. */
  now?: () => number;
}

export interface HttpStatusErrorInit {
  status: number;
  method: string;
  url: string;
  body?: string;
  retryAfterMs?: number;
  message?: string;
}

/** How much of a response body goes into an error message: enough for a registry's JSON error, not a page of HTML. */
const MESSAGE_BODY_LIMIT = 500;

/** An HTTP response that was not OK, carrying what retry and error messages need. */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly body?: string;
  readonly retryAfterMs?: number;

  constructor(init: HttpStatusErrorInit) {
    super(init.message ?? defaultHttpMessage(init));
    this.name = "HttpStatusError";
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    if (init.body !== undefined) this.body = init.body;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }
}

function defaultHttpMessage(init: HttpStatusErrorInit): string {
  const head = `${init.method} ${init.url} failed with HTTP ${init.status}`;
  const body = init.body?.trim();
  if (!body) return head;
  const shown = body.length > MESSAGE_BODY_LIMIT ? `${body.slice(0, MESSAGE_BODY_LIMIT)}…` : body;
  return `${head}: ${shown}`;
}

/** Node and undici error codes for a connection that broke or stalled: trying again may work. */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);
const UNDICI_TIMEOUT_CODE = /^UND_ERR_[A-Z_]*TIMEOUT$/;
const TRANSIENT_MESSAGE = /socket hang up|other side closed/i;

/**
 * 408, 425, 429 and 5xx except 501 (Not Implemented never heals); ECONNRESET, ETIMEDOUT, EPIPE, EAI_AGAIN,
 * socket hang-ups, undici UND_ERR_SOCKET / UND_ERR_*_TIMEOUT, fetch "TimeoutError" aborts, looking through
 * `error.cause` (fetch wraps the socket error in a TypeError) and AggregateError members. NOT ECONNREFUSED
 * (an unreachable registry must fail fast) and not 4xx auth/not-found.
 */
export function isTransientError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    if (isTransientItself(current)) return true;
    if ("cause" in current) pending.push(current.cause);
    if (current instanceof AggregateError) pending.push(...current.errors);
  }
  return false;
}

function isTransientItself(error: object): boolean {
  if (error instanceof HttpStatusError) return isTransientStatus(error.status);
  const record = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof record.code === "string") {
    if (TRANSIENT_CODES.has(record.code) || UNDICI_TIMEOUT_CODE.test(record.code)) return true;
  }
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError; a caller's own abort is "AbortError".
  if (record.name === "TimeoutError") return true;
  return typeof record.message === "string" && TRANSIENT_MESSAGE.test(record.message);
}

function isTransientStatus(status: number): boolean {
  if (status === 408 || status === 425 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501;
}

/** Retry-After as delta-seconds or HTTP-date → milliseconds from now (never negative), or undefined. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names a weekday or month; this keeps "-5" or "1.5" from passing through Date.parse.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The longest wait the n-th retry may draw (before jitter): exponential in the attempt, capped. */
export function backoffCeiling(failedAttempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (failedAttempt - 1));
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Exponential backoff with full jitter, honouring an error's retryAfterMs, bounded in attempts and total time.
 *
 * A server's Retry-After replaces the computed wait even above `maxDelayMs` (asking again sooner only earns
 * another 429), but never past `maxElapsedMs`: when the next wait would end beyond it, the last error is
 * thrown as is, so callers still see the HttpStatusError or socket error that stopped them.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const maxElapsedMs = options.maxElapsedMs ?? 120_000;
  const isRetryable = options.isRetryable ?? isTransientError;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`retry: attempts must be an integer ≥ 1, got ${attempts}`);
  }

  const startedAt = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      const delayMs = nextDelay(error, attempt, baseDelayMs, maxDelayMs, random);
      if (now() - startedAt + delayMs > maxElapsedMs) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

function nextDelay(
  error: unknown,
  failedAttempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  // Duck-typed so an error class of another package that carries the server's Retry-After is honoured too.
  const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs)) return Math.max(0, retryAfterMs);
  return Math.floor(random() * backoffCeiling(failedAttempt, baseDelayMs, maxDelayMs));
}
