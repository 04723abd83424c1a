import { describe, expect, test } from "vitest";
import { HttpStatusError, isTransientError, retry } from "@frostyard/kit";
import {
  cappedRetryAfter,
  DEFAULT_REGISTRY_RETRY,
  DigestMismatchError,
  nameAttemptFailure,
  registryRetryPolicy,
  RequestAttemptError,
  RequestTimeoutError,
} from "@frostyard/oci";

const D = `sha256:${"a".repeat(64)}`;
const PUT = `PUT blob ${D} to r/a`;

describe("the registry retry budget", () => {
  test.each<[Parameters<typeof registryRetryPolicy>[0], Record<string, number>]>([
    [undefined, { attempts: 20, baseDelayMs: 500, maxDelayMs: 10_000, maxElapsedMs: 120_000 }],
    [{ attempts: 3 }, { attempts: 3, baseDelayMs: 500, maxDelayMs: 10_000, maxElapsedMs: 120_000 }],
    [
      { baseDelayMs: 1, maxElapsedMs: 900 },
      { attempts: 20, baseDelayMs: 1, maxDelayMs: 10_000, maxElapsedMs: 900 },
    ],
  ])("registryRetryPolicy(%j)", (given, expected) => {
    expect(registryRetryPolicy(given)).toMatchObject(expected);
  });

  test.each<[number | undefined, number, number | undefined]>([
    [undefined, 30_000, undefined],
    [1_000, 30_000, 1_000],
    [3_600_000, 30_000, 30_000],
    [0, 30_000, 0],
  ])("Retry-After %s ms capped at %d → %s", (asked, cap, honoured) => {
    expect(cappedRetryAfter(asked, cap)).toBe(honoured);
  });

  test("six transient failures in a row end in success under the defaults, not after five", async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await retry(
      async () => {
        if (++calls <= 6) throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
        return "done";
      },
      { ...registryRetryPolicy(undefined), sleep: async (ms) => void waits.push(ms), random: () => 0.999 },
    );
    expect(result).toBe("done");
    expect(calls).toBe(7);
    // Full jitter just under each ceiling: 0.5, 1, 2, 4, 8, then the 10 s cap.
    expect(waits.map((ms) => Math.round(ms / 100) / 10)).toEqual([0.5, 1, 2, 4, 8, 10]);
  });

  test("the elapsed bound ends a budget of many attempts: no wait that would end past it starts", async () => {
    let clock = 0;
    let calls = 0;
    const error = await retry(
      async () => {
        calls++;
        throw new HttpStatusError({ status: 502, method: "GET", url: "http://r/v2/a/manifests/v1" });
      },
      {
        ...registryRetryPolicy(undefined),
        sleep: async (ms) => void (clock += ms),
        now: () => clock,
        random: () => 0.999,
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    // Waits of 0.5+1+2+4+8 = 15.5 s, then ten of 10 s: the eleventh would end past 120 s, so 16 attempts
    // of the 20 allowed.
    expect(calls).toBe(16);
    expect(clock).toBeLessThanOrEqual(DEFAULT_REGISTRY_RETRY.maxElapsedMs);
  });
});

describe("a failed request inside a retried unit", () => {
  const reset = new TypeError("fetch failed", {
    cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
  });
  const status = new HttpStatusError({ status: 502, method: "PUT", url: "http://r/v2/a/blobs/uploads/1" });
  const mismatch = new DigestMismatchError("blob for r/a", D, `sha256:${"b".repeat(64)}`);
  const timeout = new RequestTimeoutError(`${PUT}: no bytes moved for 60000 ms; the connection stalled`);

  test.each<[string, unknown, string]>([
    ["a socket reset is named", reset, `${PUT}: fetch failed: read ECONNRESET`],
    ["an HTTP status keeps its own message", status, status.message],
    ["a digest mismatch is not wrapped", mismatch, mismatch.message],
    ["a timeout that names the request is kept", timeout, timeout.message],
  ])("%s", (_name, error, message) => {
    const named = nameAttemptFailure(PUT, error) as Error;
    expect(named.message).toBe(message);
    expect(isTransientError(named)).toBe(isTransientError(error));
    if (named !== error) expect(named).toBeInstanceOf(RequestAttemptError);
  });
});
