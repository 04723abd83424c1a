import { describe, expect, test } from "vitest";
import { availableMemory, mountTmpfsArgv, tmpfsSize, UNPACKED_PER_ARCHIVE_BYTE } from "@frostyard/mkosi";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("availableMemory", () => {
  test.each([
    ["MemTotal:       32768000 kB\nMemFree:  100 kB\nMemAvailable:   23823852 kB\n", 23823852 * 1024],
    ["MemAvailable: 1 kB", 1024],
    ["MemTotal:       32768000 kB\nMemFree:  100 kB\n", undefined],
    ["", undefined],
    ["MemAvailable:   12 MB\n", undefined],
  ])("%j → %s", (meminfo, expected) => {
    expect(availableMemory(meminfo)).toBe(expected);
  });
});

describe("tmpfsSize", () => {
  test.each([
    // The example's 108 MiB archive on a 16 GiB runner: half the available memory.
    [108 * MiB, 14 * GiB, 7 * GiB],
    // Exactly the estimate of the unpacked tree fits in half.
    [100 * MiB, 2 * 100 * MiB * UNPACKED_PER_ARCHIVE_BYTE, 100 * MiB * UNPACKED_PER_ARCHIVE_BYTE],
    // One byte short: onto the disk.
    [100 * MiB, 2 * 100 * MiB * UNPACKED_PER_ARCHIVE_BYTE - 2, undefined],
    // A 3 GiB archive on a 16 GiB runner would need 18 GiB: onto the disk.
    [3 * GiB, 14 * GiB, undefined],
    [108 * MiB, undefined, undefined],
  ])("archive %d bytes, %s available → %s", (archive, available, expected) => {
    expect(tmpfsSize(archive, available)).toBe(expected);
  });
});

test.each([
  ["/w/cache", 7 * GiB, ["-t", "tmpfs", "-o", `size=${7 * GiB},mode=0755`, "tmpfs", "/w/cache"]],
  ["/a b/cache", 1024, ["-t", "tmpfs", "-o", "size=1024,mode=0755", "tmpfs", "/a b/cache"]],
])("mountTmpfsArgv(%s, %d)", (directory, size, expected) => {
  expect(mountTmpfsArgv(directory, size)).toEqual(expected);
});
