import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { convertRawDisk, SourceDiskError, writeSha256Sums } from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import { missingTools } from "../helpers/tools";

describe.skipIf(missingTools("qemu-img", "sha256sum"))("qemu-img conversions for real", () => {
  let dir: string;
  const size = 64 * 1024 * 1024;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "disk-qemu-img-"));
    // Some data, so compression and checksums see more than zeros.
    await writeFile(join(dir, "src.raw"), Buffer.alloc(size, 0));
    await writeFile(join(dir, "src.raw"), Buffer.from("frostyard".repeat(1000)), { flag: "r+" });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test("raw → qcow2, vmdk, vhd, raw: formats and virtual sizes as qemu-img info reads them, sha256 files", async () => {
    const out = join(dir, "out");
    execFileSync("mkdir", ["-p", out]);
    const artifacts = await convertRawDisk({
      source: join(dir, "src.raw"),
      types: ["qcow2", "vmdk", "vhd", "raw"],
      outputDirectory: out,
      name: "disk",
      logger: recordingLogger(),
    });
    expect(artifacts.map((a) => [a.type, a.info?.format, a.info?.virtualSize])).toEqual([
      ["qcow2", "qcow2", size],
      ["vmdk", "vmdk", size],
      ["vhd", "vpc", size],
      ["raw", "raw", size],
    ]);
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "--output=json", join(out, "disk.qcow2")], { encoding: "utf8" }),
    );
    expect(info["format-specific"].data.compat).toBe("1.1");
    const sums = await writeSha256Sums(out, artifacts);
    // sha256sum itself checks both the per-file and the combined form.
    execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: out });
    execFileSync("sha256sum", ["-c", "disk.vhd.sha256"], { cwd: out });
    expect(
      (await readFile(sums, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("  ")[1]),
    ).toEqual(["disk.qcow2", "disk.raw", "disk.vhd", "disk.vmdk"]);
  });

  test("a missing disk and a disk that is not raw are the source's errors, nothing written", async () => {
    const out = join(dir, "bad");
    execFileSync("mkdir", ["-p", out]);
    await expect(
      convertRawDisk({
        source: join(dir, "nope.raw"),
        types: ["qcow2"],
        outputDirectory: out,
        name: "d",
        logger: recordingLogger(),
      }),
    ).rejects.toThrow(SourceDiskError);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(dir, "q.qcow2"), "1M"]);
    await expect(
      convertRawDisk({
        source: join(dir, "q.qcow2"),
        types: ["vmdk"],
        outputDirectory: out,
        name: "d",
        logger: recordingLogger(),
      }),
    ).rejects.toThrow("is a qcow2 disk, not a raw one");
    expect(execFileSync("ls", [out], { encoding: "utf8" })).toBe("");
  });
});
