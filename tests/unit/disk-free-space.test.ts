import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { freeOn, freeSpaceLine } from "@frostyard/disk";

test.each([
  [
    { path: "/w/disk-output", before: 70 * 2 ** 30, after: 61.5 * 2 ** 30 },
    "/w/disk-output: 70 GiB free before, 61.5 GiB after",
  ],
  [{ path: "/w/disk-output", before: 1024 }, "/w/disk-output: 1 KiB free before, ? after"],
  [
    { path: "container storage /var/lib/containers/storage" },
    "container storage /var/lib/containers/storage: ? free before, ? after",
  ],
])("%j", (free, line) => {
  expect(freeSpaceLine(free)).toBe(line);
});

test("free space is read from the volume, and a path that is gone gives undefined instead of failing the step", async () => {
  const dir = await mkdtemp(join(tmpdir(), "disk-free-"));
  expect(await freeOn(dir)).toBeGreaterThan(0);
  await rm(dir, { recursive: true });
  expect(await freeOn(dir)).toBeUndefined();
});
