import { HttpStatusError, isTransientError, type RetryOptions } from "@frostyard/kit";
import { describeError } from "./errors";

/**
 * The registry client's retry budget, per request or per upload (one session: its POST and its PUT or
 * PATCHes share it). Hosted registries fail in bursts (GHCR's 502/429 at a few tens of percent for
 * minutes), so the budget is mostly time: no new attempt starts once its wait would end more than
 * `maxElapsedMs` after the first (plus, for a unit that moves a known number of bytes, their time at the
 * client's slowest accepted rate), and `attempts` only caps a fast-failing loop. Each attempt is bounded
 * by its own watchdog (idle timeout, size-fitted deadline), so a request ends within that budget plus one
 * attempt. At 30 % faulty requests an upload (two requests per attempt) fails 20 times in a row
 * with probability 0.51²⁰ ≈ 1.4e-6; with the earlier 5 attempts it was 0.51⁵ ≈ 3.5 %.
 */
export const DEFAULT_REGISTRY_RETRY = {
  attempts: 20,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxElapsedMs: 120_000,
} as const satisfies RetryOptions;

/**
 * The longest Retry-After honoured as asked. A registry that asks for longer (GHCR sends 60 s and more)
 * is asked again after this; the elapsed bound above still ends the request.
 */
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

/** The client's defaults under the caller's own options. */
export function registryRetryPolicy(options: RetryOptions | undefined): RetryOptions {
  return { ...DEFAULT_REGISTRY_RETRY, ...options };
}

/** A server's Retry-After, capped at `maxMs`; undefined stays undefined (backoff applies). */
export function cappedRetryAfter(retryAfterMs: number | undefined, maxMs: number): number | undefined {
  return retryAfterMs === undefined ? undefined : Math.min(retryAfterMs, maxMs);
}

/**
 * A transient failure of one request inside a larger retried unit (an upload session): the unit's final
 * error names the unit and its attempts, and this names the request that failed ("PUT blob … to …: fetch
 * failed: read ECONNRESET"). Transient through its cause, so the unit retries it.
 */
export class RequestAttemptError extends Error {
  readonly request: string;
  constructor(request: string, cause: unknown) {
    super(`${request}: ${describeError(cause)}`, { cause });
    this.name = "RequestAttemptError";
    this.request = request;
  }
}

/**
 * `error` as the unit's retry should see it: a transient socket or timeout failure that does not say
 * which request it was gets the request's name; HTTP statuses (their message has method and URL),
 * errors already naming the request, and non-transient errors (digest mismatches, auth) pass as they are.
 */
export function nameAttemptFailure(request: string, error: unknown): unknown {
  if (error instanceof HttpStatusError || !isTransientError(error)) return error;
  if (describeError(error).includes(request)) return error;
  return new RequestAttemptError(request, error);
}
