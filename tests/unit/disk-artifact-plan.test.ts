import { describe, expect, test } from "vitest";
import {
  ByteSizeError,
  DEFAULT_ARTIFACT_PART_SIZE,
  parseByteSize,
  planUpload,
  reassemblyLine,
  renderReassembleScript,
  splitFile,
  UploadPlanError,
  type PlanFile,
} from "@frostyard/disk";

const f = (name: string, size: number): PlanFile => ({ name, size });

describe("parseByteSize", () => {
  test.each([
    ["0", 0],
    ["1048576", 1048576],
    ["64K", 64 * 1024],
    ["64k", 64 * 1024],
    ["100M", 100 * 1024 ** 2],
    ["2G", 2 * 1024 ** 3],
    ["2GiB", 2 * 1024 ** 3],
    ["2 GB", 2 * 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["1T", 1024 ** 4],
  ])("%s is %d bytes", (raw, bytes) => expect(parseByteSize(raw)).toBe(bytes));

  test.each(["", "two", "-1", "2X", "1e9", "G", "99999999999999999999T"])("'%s' is refused", (raw) =>
    expect(() => parseByteSize(raw)).toThrow(ByteSizeError),
  );

  test("the default stays under 2^31 bytes, where Buffer-based downloaders stop", () => {
    expect(DEFAULT_ARTIFACT_PART_SIZE).toBe(2000 * 1024 ** 2);
    expect(DEFAULT_ARTIFACT_PART_SIZE).toBeLessThan(2 ** 31 - 1024 ** 2);
  });
});

describe("splitFile", () => {
  test.each([
    [
      "an exact multiple",
      300,
      100,
      [
        [0, 100],
        [100, 100],
        [200, 100],
      ],
    ],
    [
      "a short last part",
      250,
      100,
      [
        [0, 100],
        [100, 100],
        [200, 50],
      ],
    ],
    [
      "one byte over",
      101,
      100,
      [
        [0, 100],
        [100, 1],
      ],
    ],
  ])("%s", (_, size, partSize, ranges) => {
    const split = splitFile(f("qcow2/disk.qcow2", size), partSize);
    expect(split.parts.map((p) => [p.offset, p.length])).toEqual(ranges);
    expect(split.parts.map((p) => p.name)).toEqual(ranges.map((_, i) => `qcow2/disk.qcow2.part-00${i}`));
  });

  test("three digits as split -d -a 3 writes them, widened past a thousand parts so they still sort", () => {
    const split = splitFile(f("d.raw", 1001), 1);
    expect(split.parts[0]!.name).toBe("d.raw.part-0000");
    expect(split.parts.at(-1)!.name).toBe("d.raw.part-1000");
  });
});

describe("planUpload", () => {
  const SUMS = f("SHA256SUMS", 100);
  test.each([
    {
      why: "part size 0: one artifact of whole files, as before",
      files: [f("b.qcow2", 5000), SUMS, f("a.raw", 9000)],
      partSize: 0,
      artifacts: [["disk-image", ["a.raw", "b.qcow2", "SHA256SUMS"]]],
      splits: [],
    },
    {
      why: "everything under the part size: one artifact, nothing split",
      files: [f("qcow2/d.qcow2", 400), f("qcow2/d.qcow2.sha256", 80), SUMS],
      partSize: 1000,
      artifacts: [["disk-image", ["qcow2/d.qcow2", "qcow2/d.qcow2.sha256", "SHA256SUMS"]]],
      splits: [],
    },
    {
      why: "a file over the part size is split; each full part fills an artifact, the index rides with the last",
      files: [f("raw/d.raw", 2500), f("raw/d.raw.sha256", 80), SUMS],
      partSize: 1000,
      artifacts: [
        ["disk-image-1", ["raw/d.raw.part-000"]],
        ["disk-image-2", ["raw/d.raw.part-001"]],
        ["disk-image", ["raw/d.raw.part-002", "raw/d.raw.sha256", "SHA256SUMS"]],
      ],
      splits: [["raw/d.raw", 3]],
    },
    {
      why: "whole files that fit together are packed; one that would overflow starts the next artifact",
      files: [f("a.qcow2", 600), f("b.vmdk", 300), f("c.vhd", 200), SUMS],
      partSize: 1000,
      artifacts: [
        ["disk-image-1", ["a.qcow2", "b.vmdk"]],
        ["disk-image", ["c.vhd", "SHA256SUMS"]],
      ],
      splits: [],
    },
    {
      why: "a file of exactly the part size is not split; the few bytes of index ride along uncounted",
      files: [f("a.raw", 1000), SUMS],
      partSize: 1000,
      artifacts: [["disk-image", ["a.raw", "SHA256SUMS"]]],
      splits: [],
    },
    {
      why: "the index files go last even where their names sort first",
      files: [f("reassemble.sh", 10), f("SHA256SUMS.parts", 10), SUMS, f("z.raw", 10)],
      partSize: 1000,
      artifacts: [["disk-image", ["z.raw", "SHA256SUMS", "SHA256SUMS.parts", "reassemble.sh"]]],
      splits: [],
    },
  ])("$why", ({ files, partSize, artifacts, splits }) => {
    const plan = planUpload(files, partSize, "disk-image");
    expect(plan.artifacts.map((a) => [a.name, a.files])).toEqual(artifacts);
    expect(plan.splits.map((s) => [s.name, s.parts.length])).toEqual(splits);
    if (partSize > 0)
      for (const a of plan.artifacts.slice(0, -1)) expect(a.bytes).toBeLessThanOrEqual(partSize);
  });

  test("more artifacts than a job may create is refused before anything is written", () => {
    expect(() => planUpload([f("d.raw", 501)], 1, "disk-image")).toThrow(UploadPlanError);
    expect(() => planUpload([f("d.raw", 501)], 1, "disk-image")).toThrow(
      "501 artifacts of at most 1 bytes each would be needed; a job may create 500",
    );
    expect(planUpload([f("d.raw", 500)], 1, "disk-image").artifacts).toHaveLength(500);
  });
});

describe("reassembly", () => {
  const split = splitFile(f("qcow2/my disk.qcow2", 250), 100);
  test("one cat line, names quoted for the shell", () => {
    expect(reassemblyLine(split)).toBe(
      "cat 'qcow2/my disk.qcow2.part-000' 'qcow2/my disk.qcow2.part-001' 'qcow2/my disk.qcow2.part-002' > 'qcow2/my disk.qcow2'",
    );
  });
  test("the script checks the parts, joins, checks the whole, and only then removes the parts", () => {
    const script = renderReassembleScript([splitFile(f("raw/d.raw", 150), 100)]).split("\n");
    expect(script).toEqual([
      "#!/bin/sh",
      "# Run where every artifact of this set was downloaded (download-artifact with merge-multiple: true).",
      "set -eu",
      "sha256sum -c SHA256SUMS.parts",
      "cat raw/d.raw.part-000 raw/d.raw.part-001 > raw/d.raw",
      "sha256sum -c SHA256SUMS",
      "rm raw/d.raw.part-000 raw/d.raw.part-001",
      "",
    ]);
  });
});
