import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HttpStatusError, isTransientError, parseRetryAfter, retry } from "@frostyard/kit";

function coded(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

function http(status: number, retryAfterMs?: number): HttpStatusError {
  return new HttpStatusError({ status, method: "GET", url: "https://r.example/v2/", retryAfterMs });
}

describe("isTransientError", () => {
  test.each<[string, unknown, boolean]>([
    ["408 request timeout", http(408), true],
    ["425 too early", http(425), true],
    ["429 too many requests", http(429), true],
    ["500", http(500), true],
    ["502 bad gateway", http(502), true],
    ["503", http(503), true],
    ["599", http(599), true],
    ["501 not implemented never heals", http(501), false],
    ["400", http(400), false],
    ["401 unauthorized", http(401), false],
    ["403 forbidden", http(403), false],
    ["404 not found", http(404), false],
    ["ECONNRESET", coded("ECONNRESET"), true],
    ["ETIMEDOUT", coded("ETIMEDOUT"), true],
    ["EPIPE", coded("EPIPE"), true],
    ["EAI_AGAIN", coded("EAI_AGAIN"), true],
    ["ECONNREFUSED fails fast", coded("ECONNREFUSED"), false],
    ["ENOTFOUND", coded("ENOTFOUND"), false],
    ["undici socket", coded("UND_ERR_SOCKET"), true],
    ["undici headers timeout", coded("UND_ERR_HEADERS_TIMEOUT"), true],
    ["undici body timeout", coded("UND_ERR_BODY_TIMEOUT"), true],
    ["undici connect timeout", coded("UND_ERR_CONNECT_TIMEOUT"), true],
    ["undici invalid arg", coded("UND_ERR_INVALID_ARG"), false],
    ["socket hang up", new Error("socket hang up"), true],
    ["fetch failed wrapping ECONNRESET", new TypeError("fetch failed", { cause: coded("ECONNRESET") }), true],
    [
      "fetch failed wrapping ECONNREFUSED",
      new TypeError("fetch failed", { cause: coded("ECONNREFUSED") }),
      false,
    ],
    [
      "two-level cause",
      new Error("push failed", { cause: new TypeError("fetch failed", { cause: coded("UND_ERR_SOCKET") }) }),
      true,
    ],
    ["AggregateError of refusals", new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")]), false],
    ["AggregateError with a timeout", new AggregateError([coded("ECONNREFUSED"), coded("ETIMEDOUT")]), true],
    ["fetch timeout (DOMException TimeoutError)", new DOMException("timed out", "TimeoutError"), true],
    ["caller abort (AbortError)", new DOMException("aborted", "AbortError"), false],
    ["plain Error", new Error("boom"), false],
    ["string", "ECONNRESET", false],
    ["undefined", undefined, false],
  ])("%s → %s", (_name, error, expected) => {
    expect(isTransientError(error)).toBe(expected);
  });

  test("a cause cycle terminates", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(isTransientError(a)).toBe(false);
  });

  test("a real AbortSignal.timeout() fetch abort is transient", async () => {
    const server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const error = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(50) }).catch(
      (e: unknown) => e,
    );
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect(isTransientError(error)).toBe(true);
  });

  test("a real refused connection is not transient", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(isTransientError(error)).toBe(false);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");
  test.each<[string | null | undefined, number | undefined]>([
    ["0", 0],
    ["7", 7_000],
    [" 120 ", 120_000],
    ["Sun, 01 Mar 2026 12:00:30 GMT", 30_000],
    ["Sun, 01 Mar 2026 11:59:00 GMT", 0], // a date in the past means "now", never negative
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    ["", undefined],
    [null, undefined],
    [undefined, undefined],
  ])("%j → %j", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe("HttpStatusError", () => {
  test("the default message names method, url, status and the start of the body", () => {
    const error = new HttpStatusError({
      status: 404,
      method: "HEAD",
      url: "http://127.0.0.1:5000/v2/os/manifests/v1",
      body: ` {"errors":[{"code":"MANIFEST_UNKNOWN"}]}${"x".repeat(1000)}`,
    });
    expect(error.message).toMatch(
      /^HEAD http:\/\/127\.0\.0\.1:5000\/v2\/os\/manifests\/v1 failed with HTTP 404: \{"errors":\[\{"code":"MANIFEST_UNKNOWN"\}\]\}x+…$/,
    );
    expect(error.message.length).toBeLessThan(600);
    expect(error.status).toBe(404);
    expect(error.retryAfterMs).toBeUndefined();
    expect(error).toBeInstanceOf(Error);
  });

  test("an explicit message wins", () => {
    expect(new HttpStatusError({ status: 500, method: "GET", url: "u", message: "custom" }).message).toBe(
      "custom",
    );
  });
});

/** A test clock: sleep advances it, so the elapsed-time bound is exercised without waiting. */
function testClock(random = () => 0.5) {
  let time = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    random,
    now: () => time,
    sleep: async (ms: number) => {
      waits.push(ms);
      time += ms;
    },
  };
}

/** Fails with each error in turn, then returns "ok"; records the attempt numbers it saw. */
function failing(...errors: unknown[]) {
  const seen: number[] = [];
  const fn = async (attempt: number) => {
    seen.push(attempt);
    const error = errors[attempt - 1];
    if (error !== undefined) throw error;
    return "ok";
  };
  return { fn, seen };
}

describe("retry", () => {
  test("returns the first success without waiting", async () => {
    const clock = testClock();
    const { fn, seen } = failing();
    await expect(retry(fn, clock)).resolves.toBe("ok");
    expect(seen).toEqual([1]);
    expect(clock.waits).toEqual([]);
  });

  test.each<[string, number, number[]]>([
    // full jitter: wait = floor(random × min(max, base × 2^(n-1)))
    ["random 0.5", 0.5, [250, 500, 1000, 2000]],
    ["random 0 never waits", 0, [0, 0, 0, 0]],
    ["random 0.999", 0.999, [499, 999, 1998, 3996]],
  ])("waits follow exponential full jitter (%s)", async (_name, r, expected) => {
    const clock = testClock(() => r);
    const { fn, seen } = failing(http(503), http(503), http(502), coded("ECONNRESET"));
    await expect(retry(fn, clock)).resolves.toBe("ok");
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(clock.waits).toEqual(expected);
  });

  test("the per-wait cap applies", async () => {
    const clock = testClock(() => 0.5);
    const { fn } = failing(http(503), http(503), http(503), http(503));
    await retry(fn, { ...clock, baseDelayMs: 1000, maxDelayMs: 2500 });
    expect(clock.waits).toEqual([500, 1000, 1250, 1250]);
  });

  test("Retry-After replaces the computed wait, even above maxDelayMs", async () => {
    const clock = testClock(() => 0.5);
    const { fn } = failing(http(429, 7_000), http(503), http(429, 0));
    await retry(fn, { ...clock, maxDelayMs: 5_000 });
    expect(clock.waits).toEqual([7_000, 500, 0]);
  });

  test("gives up after `attempts` and throws the last error itself", async () => {
    const clock = testClock();
    const last = http(503);
    const { fn, seen } = failing(http(502), http(500), last);
    const error = await retry(fn, { ...clock, attempts: 3 }).catch((e: unknown) => e);
    expect(error).toBe(last);
    expect(seen).toEqual([1, 2, 3]);
    expect(clock.waits).toEqual([250, 500]);
  });

  test("a permanent error is thrown at once", async () => {
    const clock = testClock();
    const notFound = http(404);
    const { fn, seen } = failing(http(503), notFound);
    await expect(retry(fn, clock)).rejects.toBe(notFound);
    expect(seen).toEqual([1, 2]);
    expect(clock.waits).toEqual([250]);
  });

  test("stops when the next wait would pass maxElapsedMs", async () => {
    const clock = testClock(() => 0.5);
    // waits would be 250, 500, 1000: the third would end at 1750 > 1500
    const { fn, seen } = failing(http(503), http(503), http(503), http(503));
    const error = await retry(fn, { ...clock, maxElapsedMs: 1500 }).catch((e: unknown) => e);
    expect((error as HttpStatusError).status).toBe(503);
    expect(seen).toEqual([1, 2, 3]);
    expect(clock.waits).toEqual([250, 500]);
  });

  test("a Retry-After beyond maxElapsedMs fails now rather than waiting", async () => {
    const clock = testClock();
    const { fn, seen } = failing(http(429, 3_600_000));
    await expect(retry(fn, clock)).rejects.toMatchObject({ status: 429 });
    expect(seen).toEqual([1]);
    expect(clock.waits).toEqual([]);
  });

  test("onRetry reports each failed attempt and its wait; isRetryable can widen the policy", async () => {
    const clock = testClock(() => 0.5);
    const infos: { attempt: number; delayMs: number; message: string }[] = [];
    const { fn } = failing(new Error("flaky"), new Error("flaky again"));
    await retry(fn, {
      ...clock,
      isRetryable: (e) => e instanceof Error && e.message.startsWith("flaky"),
      onRetry: ({ attempt, delayMs, error }) =>
        infos.push({ attempt, delayMs, message: (error as Error).message }),
    });
    expect(infos).toEqual([
      { attempt: 1, delayMs: 250, message: "flaky" },
      { attempt: 2, delayMs: 500, message: "flaky again" },
    ]);
  });

  test.each([0, -1, 1.5])("attempts = %s is refused", async (attempts) => {
    await expect(retry(async () => 1, { attempts })).rejects.toThrow(/attempts must be an integer ≥ 1/);
  });
});

describe("retry against a real HTTP server", () => {
  let server: Server;
  let url: string;
  const answers: { status: number; headers: Record<string, string> }[] = [
    { status: 503, headers: {} },
    { status: 429, headers: { "retry-after": "1" } },
    { status: 200, headers: {} },
  ];
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      const answer = answers[Math.min(requests++, answers.length - 1)]!;
      res.writeHead(answer.status, answer.headers).end(answer.status === 200 ? "hello" : "busy");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test("503, then 429 with Retry-After: 1, then 200", async () => {
    const waits: number[] = [];
    const started = Date.now();
    const body = await retry(
      async () => {
        const response = await fetch(url);
        const text = await response.text();
        if (!response.ok) {
          throw new HttpStatusError({
            status: response.status,
            method: "GET",
            url,
            body: text,
            retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
          });
        }
        return text;
      },
      { baseDelayMs: 20, random: () => 0.5, onRetry: ({ delayMs }) => waits.push(delayMs) },
    );
    expect(body).toBe("hello");
    expect(requests).toBe(3);
    expect(waits).toEqual([10, 1000]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
