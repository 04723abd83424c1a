import { describe, expect, test } from "vitest";
import { HttpStatusError, isTransientError } from "@frostyard/kit";
import {
  describeError,
  RegistryRequestError,
  RequestTimeoutError,
  transferDeadlineMs,
  Watchdog,
} from "@frostyard/oci";
import { classifyRequest, scheduledFaults, seededFaults, type RequestKind } from "../helpers/fault-proxy";

const D = `sha256:${"a".repeat(64)}`;

describe("transferDeadlineMs", () => {
  test.each<[number, number, number, number]>([
    [60_000, 0, 65_536, 60_000],
    [60_000, 65_536, 65_536, 61_000],
    [60_000, 33 * 1024 * 1024, 65_536, 60_000 + 528_000],
    [500, 1, 65_536, 501],
  ])("base %d ms + %d bytes at %d B/s → %d ms", (base, bytes, rate, expected) => {
    expect(transferDeadlineMs(base, bytes, rate)).toBe(expected);
  });
});

describe("errors that name the request", () => {
  const socket = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
  test.each<[unknown, string]>([
    [new TypeError("fetch failed", { cause: socket }), "fetch failed: other side closed"],
    [new TypeError("terminated", { cause: new TypeError("terminated") }), "terminated"],
    ["plain", "plain"],
  ])("describeError(%s)", (error, text) => {
    expect(describeError(error)).toBe(text);
  });

  test("a RegistryRequestError keeps the status and the cause, and is not retried again", () => {
    const cause = new HttpStatusError({ status: 502, method: "GET", url: "http://r/v2/a/manifests/v1" });
    const error = new RegistryRequestError("GET manifest r/a:v1", 5, cause);
    expect(error.message).toBe(
      "GET manifest r/a:v1 failed after 5 attempts: GET http://r/v2/a/manifests/v1 failed with HTTP 502",
    );
    expect(error).toMatchObject({ status: 502, attempts: 5, cause });
  });

  test("a watchdog aborts a silent exchange with a transient RequestTimeoutError; touches keep it alive", async () => {
    const dog = new Watchdog(`GET blob ${D}`, 300, 10_000);
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      dog.touch();
    }
    expect(dog.signal.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(dog.signal.aborted).toBe(true);
    const reason = dog.signal.reason as RequestTimeoutError;
    expect(reason).toBeInstanceOf(RequestTimeoutError);
    expect(reason.message).toBe(`GET blob ${D}: no bytes moved for 300 ms; the connection stalled`);
    expect(isTransientError(reason)).toBe(true);

    const late = new Watchdog("PUT blob", 10_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 90));
    expect((late.signal.reason as Error).message).toBe("PUT blob: not done within 50 ms");
    late.done();
  });
});

describe("the fault proxy's schedule", () => {
  test.each<[string, string, RequestKind]>([
    ["GET", "/v2/", "base"],
    ["GET", "/v2/os/snow/manifests/latest", "manifest-get"],
    ["HEAD", `/v2/os/snow/manifests/${D}`, "manifest-head"],
    ["PUT", "/v2/os/snow/manifests/1.0", "manifest-put"],
    ["GET", `/v2/os/snow/blobs/${D}`, "blob-get"],
    ["HEAD", `/v2/os/snow/blobs/${D}`, "blob-head"],
    ["POST", "/v2/os/snow/blobs/uploads/", "upload-start"],
    ["POST", `/v2/os/snow/blobs/uploads/?mount=${D}&from=a`, "upload-start"],
    ["PATCH", "/v2/os/snow/blobs/uploads/0b1c?_state=x", "blob-patch"],
    ["PUT", `/v2/os/snow/blobs/uploads/0b1c?digest=${D}`, "blob-put"],
    ["GET", "/v2/os/snow/tags/list?n=10", "tags"],
    ["GET", "/v2/_catalog", "other"],
  ])("%s %s is %s", (method, path, kind) => {
    expect(classifyRequest(method, path)).toBe(kind);
  });

  test("a fixed schedule hits only the n-th request of its kind", () => {
    const fault = { kind: "reset-request", afterBytes: 1024 * 1024 } as const;
    const schedule = scheduledFaults([{ kind: "blob-put", nth: 2, fault }]);
    const at = (kind: RequestKind, nth: number) =>
      schedule({ index: 1, method: "PUT", path: "/", kind, nth });
    expect([at("blob-put", 1), at("blob-put", 2), at("blob-patch", 2)]).toEqual([
      undefined,
      fault,
      undefined,
    ]);
  });

  test("a seeded schedule is the same for the same seed, about `rate` faulty, and bounded", () => {
    const draw = (seed: number) => {
      const schedule = seededFaults({ seed, rate: 0.3, stallMs: 700 });
      return Array.from({ length: 2000 }, (_, i) =>
        schedule({ index: i + 1, method: "GET", path: "/", kind: "blob-get", nth: i + 1 }),
      );
    };
    const first = draw(7);
    expect(draw(7)).toEqual(first);
    expect(draw(8)).not.toEqual(first);
    const faulty = first.filter((f) => f !== undefined);
    expect(faulty.length / first.length).toBeGreaterThan(0.25);
    expect(faulty.length / first.length).toBeLessThan(0.35);
    expect(new Set(faulty.map((f) => f!.kind))).toEqual(
      new Set(["status", "reset-request", "reset-response", "truncate", "stall"]),
    );
    for (const f of faulty) {
      if (f!.kind === "stall") expect(f!.ms).toBe(700);
      if (f!.kind !== "status") expect(f!.afterBytes).toBeLessThan(2 * 1024 * 1024);
    }
  });
});
