import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DefaultArtifactClient } from "@actions/artifact";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { renderSha256Sums, splitFile, uploadInParts, writePart } from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import { uploadDisks } from "../../packages/actions/src/disk-image/upload";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  useHostedEnv,
  type HostedServices,
} from "../helpers/hosted-services";
import { missingTools } from "../helpers/tools";

/**
 * Disks over the artifact part size, on real files: our parts against GNU coreutils' `split`, joined by
 * `cat` and checked by `sha256sum`; then uploaded through the real @actions/artifact to the loopback
 * artifact service (tests/helpers/hosted-services.ts: GitHub's cannot be reached from here, azurite stores
 * the bytes), downloaded back into one directory and put together by the reassemble.sh that went up.
 */

const exec = promisify(execFile);
const sh = async (cwd: string, command: string, ...args: string[]) =>
  (await exec(command, args, { cwd })).stdout;
const sha256sum = async (path: string) => (await exec("sha256sum", [path])).stdout.split(" ")[0]!;

/** A disk-like file written in 1 MiB chunks: random blocks between runs of zeros, never held whole. */
async function writeDisk(path: string, mebibytes: number, tail: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < mebibytes; i++)
    out.write(i % 3 === 1 ? Buffer.alloc(1024 * 1024) : randomBytes(1024 * 1024));
  out.write(randomBytes(tail));
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

describe.skipIf(missingTools("split", "cat", "sha256sum", "cmp"))("disk parts against coreutils", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "disk-parts-"));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  test.each([
    ["a short last part", 7, 4321, 2 * 1024 * 1024],
    ["an exact multiple", 6, 0, 2 * 1024 * 1024],
    ["parts smaller than a read", 1, 17, 100_000],
  ])(
    "%s: byte for byte what split -b -d -a 3 writes, and cat gives the disk back",
    async (_, mib, tail, partSize) => {
      const dir = await mkdtemp(join(scratch, "case-"));
      const disk = join(dir, "disk.raw");
      await writeDisk(disk, mib, tail);
      const size = mib * 1024 * 1024 + tail;
      await mkdir(join(dir, "gnu"));
      await sh(dir, "split", "-b", String(partSize), "-d", "-a", "3", disk, "gnu/disk.raw.part-");
      const gnu = (await readdir(join(dir, "gnu"))).sort();

      const split = splitFile({ name: "disk.raw", size }, partSize);
      expect(split.parts.map((p) => p.name)).toEqual(gnu);
      const hashes: string[] = [];
      for (const part of split.parts) {
        const written = await writePart(disk, part, join(dir, part.name));
        expect(written.size).toBe(part.length);
        await sh(dir, "cmp", part.name, `gnu/${part.name}`);
        expect(written.sha256).toBe(await sha256sum(join(dir, part.name)));
        hashes.push(written.sha256);
      }
      await exec("sh", ["-c", `cat ${split.parts.map((p) => p.name).join(" ")} > joined.raw`], { cwd: dir });
      expect(await sha256sum(join(dir, "joined.raw"))).toBe(await sha256sum(disk));
      // The sums file sha256sum -c reads, as reassemble.sh runs it.
      await writeFile(
        join(dir, "SHA256SUMS.parts"),
        renderSha256Sums(split.parts.map((p, i) => ({ name: p.name, sha256: hashes[i]! }))),
      );
      expect(await sh(dir, "sha256sum", "-c", "SHA256SUMS.parts")).toBe(
        split.parts.map((p) => `${p.name}: OK\n`).join(""),
      );
    },
  );

  test("a source shorter than its plan fails instead of writing a short part", async () => {
    const disk = join(scratch, "short.raw");
    await writeFile(disk, randomBytes(1000));
    await expect(writePart(disk, { offset: 500, length: 1000 }, join(scratch, "short.part"))).rejects.toThrow(
      "read 500 bytes at 500, expected 1000",
    );
  });
});

describe.skipIf(hostedServicesUnavailable() || missingTools("sh", "cat", "sha256sum"))(
  "split disks through the loopback artifact service",
  () => {
    let services: HostedServices;
    let scratch: string;
    let restoreEnv: () => void;

    beforeAll(async () => {
      services = await startTestHostedServices();
      scratch = await mkdtemp(join(tmpdir(), "disk-upload-"));
      restoreEnv = useHostedEnv(services, { GITHUB_WORKSPACE: scratch });
    });
    afterAll(async () => {
      restoreEnv?.();
      await services?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test("a disk over the part size goes up in parts across artifacts and comes back whole", async () => {
      const out = join(scratch, "out");
      await mkdir(join(out, "qcow2"), { recursive: true });
      const disk = join(out, "qcow2/disk.qcow2");
      await writeDisk(disk, 2, 1234);
      await writeFile(join(out, "vmdk.vmdk"), randomBytes(300 * 1024));
      const sums = renderSha256Sums([
        { name: "qcow2/disk.qcow2", sha256: await sha256sum(disk) },
        { name: "vmdk.vmdk", sha256: await sha256sum(join(out, "vmdk.vmdk")) },
      ]);
      await writeFile(join(out, "SHA256SUMS"), sums);
      const logger = recordingLogger();
      const client = new DefaultArtifactClient();
      const report = await uploadInParts({
        directory: out,
        artifactName: "os-disks",
        partSize: 1024 * 1024,
        logger,
        upload: async (name, files, root) => {
          const r = await client.uploadArtifact(name, files, root);
          return { id: r.id ?? 0, size: r.size ?? 0 };
        },
      });

      expect(report.artifacts.map((a) => [a.name, a.files])).toEqual([
        ["os-disks-1", ["qcow2/disk.qcow2.part-000"]],
        ["os-disks-2", ["qcow2/disk.qcow2.part-001"]],
        [
          "os-disks",
          ["qcow2/disk.qcow2.part-002", "vmdk.vmdk", "SHA256SUMS", "SHA256SUMS.parts", "reassemble.sh"],
        ],
      ]);
      expect(report.splits.map((s) => [s.name, s.parts.map((p) => p.length)])).toEqual([
        ["qcow2/disk.qcow2", [1024 * 1024, 1024 * 1024, 1234]],
      ]);
      // What the service holds, in the order they went up; the parts are gone from the output directory.
      const stored = services.store.listArtifacts(services.ids.workflowRunBackendId);
      expect(stored.map((a) => a.name)).toEqual(["os-disks-1", "os-disks-2", "os-disks"]);
      expect((await readdir(join(out, "qcow2"))).sort()).toEqual(["disk.qcow2"]);
      expect(logger.lines.join("\n")).toContain(
        "qcow2/disk.qcow2 (2 MiB) went up in 3 parts; cat qcow2/disk.qcow2.part-000 qcow2/disk.qcow2.part-001 qcow2/disk.qcow2.part-002 > qcow2/disk.qcow2",
      );

      // A user's side: every artifact into one directory, then the script that came with them.
      const down = join(scratch, "download");
      for (const a of report.artifacts) await client.downloadArtifact(a.id, { path: down });
      expect((await readdir(join(down, "qcow2"))).sort()).toEqual([
        "disk.qcow2.part-000",
        "disk.qcow2.part-001",
        "disk.qcow2.part-002",
      ]);
      const { stdout } = await exec("sh", ["reassemble.sh"], { cwd: down });
      expect(stdout).toBe(
        [
          "qcow2/disk.qcow2.part-000: OK",
          "qcow2/disk.qcow2.part-001: OK",
          "qcow2/disk.qcow2.part-002: OK",
          "qcow2/disk.qcow2: OK",
          "vmdk.vmdk: OK",
          "",
        ].join("\n"),
      );
      expect(await readdir(join(down, "qcow2"))).toEqual(["disk.qcow2"]);
      expect(await sha256sum(join(down, "qcow2/disk.qcow2"))).toBe(await sha256sum(disk));
      expect(await readFile(join(down, "SHA256SUMS"), "utf8")).toBe(sums);
    });

    test("the entry's uploader: a part size needing over 500 artifacts is refused on its input, nothing goes up", async () => {
      const dir = join(scratch, "many");
      await mkdir(dir);
      await writeFile(join(dir, "disk.raw"), randomBytes(600));
      const before = services.store.listArtifacts(services.ids.workflowRunBackendId).length;
      await expect(uploadDisks(dir, "too-many", 1, recordingLogger())).rejects.toThrow(
        "input 'artifact-part-size': 600 artifacts of at most 1 bytes each would be needed; a job may create 500; expected a part size that needs at most 500 artifacts, or 0 for one artifact of whole files",
      );
      expect(services.store.listArtifacts(services.ids.workflowRunBackendId)).toHaveLength(before);
      expect(await readdir(dir)).toEqual(["disk.raw"]);
    });

    test("the entry's uploader: no artifact service, no upload, a notice saying why", async () => {
      const restore = useHostedEnv(services, { ACTIONS_RUNTIME_TOKEN: "" });
      delete process.env.ACTIONS_RUNTIME_TOKEN;
      try {
        const logger = recordingLogger();
        const result = await uploadDisks(join(scratch, "out"), "never", 1024, logger);
        expect(result).toEqual({
          skipped: "no artifact service on this runner (ACTIONS_RUNTIME_TOKEN unset)",
        });
        expect(logger.lines).toContain(
          "notice: Artifact upload skipped: no artifact service on this runner (ACTIONS_RUNTIME_TOKEN unset)",
        );
      } finally {
        restore();
      }
    });
  },
);
