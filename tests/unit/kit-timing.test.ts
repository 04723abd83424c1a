import { describe, expect, test } from "vitest";
import { stopwatch, timed, Timings } from "@frostyard/kit";

/** A clock each call of which returns the next value. */
function ticks(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

describe("stopwatch", () => {
  test("measures from creation with an injected clock", () => {
    const watch = stopwatch(ticks(1000, 1250, 4000));
    expect(watch.elapsedMs()).toBe(250);
    expect(watch.elapsedMs()).toBe(3000);
  });

  test("the real clock moves forward across a real wait", async () => {
    const watch = stopwatch();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(watch.elapsedMs()).toBeGreaterThanOrEqual(25);
  });
});

describe("timed", () => {
  test("returns the value and the duration", async () => {
    const result = await timed("build", async () => "sha256:ab", ticks(10, 510));
    expect(result).toEqual({ value: "sha256:ab", timing: { name: "build", durationMs: 500, ok: true } });
  });

  test("passes the error through", async () => {
    await expect(timed("build", () => Promise.reject(new Error("no space")))).rejects.toThrow("no space");
  });
});

describe("Timings", () => {
  test("records successes and failures in order and renders a table", async () => {
    const timings = new Timings(ticks(0, 850, 1000, 5200, 6000, 71_000));
    expect(await timings.time("pull", async () => 1)).toBe(1);
    await timings.time("build", async () => 2);
    await expect(timings.time("push", () => Promise.reject(new Error("502")))).rejects.toThrow("502");
    expect(timings.entries).toEqual([
      { name: "pull", durationMs: 850, ok: true },
      { name: "build", durationMs: 4200, ok: true },
      { name: "push", durationMs: 65_000, ok: false },
    ]);
    expect(timings.totalMs()).toBe(70_050);
    expect(timings.toMarkdown()).toBe(
      "| step | duration |\n| --- | --- |\n| pull | 850 ms |\n| build | 4.2 s |\n| push (failed) | 1 min 05 s |",
    );
  });
});
