import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  bootDisk,
  buildMkosiDisk,
  DEFAULT_BOOT_EXPECT,
  MkosiDiskProjectError,
  QEMU_FORMAT,
  type MkosiDiskResult,
} from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import { LocalDirectoryCache, type MkosiBuildOptions } from "@frostyard/mkosi";
import { repoRoot } from "../helpers/run-action";
import {
  ensureToolbox,
  toolboxCacheDir,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * The mkosi engine end to end, and the boot test for real: mkosi 25.3 from the trixie toolbox builds
 * tests/fixtures/mkosi/disk-bootable (Format=disk, Debian trixie, the cloud kernel, systemd-boot) on the
 * shared build path, qemu-img converts the raw disk and `qemu-img info` reads every file back, then QEMU
 * boots the qcow2 with OVMF and the test waits for the login prompt on the serial console. A copy of the
 * disk with its ESP wiped (no boot loader, no kernel) must fail with the console tail.
 *
 * Timing on a 2-core machine without a usable KVM (TCG), load from `uptime`: a cold build 4 min 24 s by
 * hand at load 3–6 and 11 min (with the conversions) at load 12–16; the work directory is kept under the
 * toolbox cache, so mkosi's incremental image makes a rerun 54–113 s. The boot reached multi-user.target
 * in 159–195 s, the broken disk OVMF's shell in 7–11 s. Whole file warm: 5.5 min.
 */
const run = promisify(execFile);
const skip = toolboxUnavailable() || missingTools("qemu-img", "qemu-system-x86_64", "dd", "du");
const EPOCH = 1735689600;
/** The ESP's type GUID as GPT stores it (the first three fields little-endian). */
const ESP_TYPE = Buffer.from("28732ac11ff8d211ba4b00a0c93ec93b", "hex");

/**
 * The ESP's first and last sector, read from the GPT (512-byte sectors, as systemd-repart writes a disk
 * image): sfdisk is not installed here, and the header is a few fixed offsets.
 */
async function espExtent(disk: string): Promise<{ firstLba: number; lastLba: number }> {
  const handle = await open(disk, "r");
  try {
    const header = Buffer.alloc(92);
    await handle.read(header, 0, 92, 512);
    if (header.toString("latin1", 0, 8) !== "EFI PART") throw new Error(`${disk} has no GPT`);
    const entriesLba = Number(header.readBigUInt64LE(72));
    const count = header.readUInt32LE(80);
    const size = header.readUInt32LE(84);
    const entries = Buffer.alloc(count * size);
    await handle.read(entries, 0, entries.length, entriesLba * 512);
    for (let i = 0; i < count; i++) {
      const entry = entries.subarray(i * size, (i + 1) * size);
      if (entry.subarray(0, 16).equals(ESP_TYPE))
        return {
          firstLba: Number(entry.readBigUInt64LE(32)),
          lastLba: Number(entry.readBigUInt64LE(40)),
        };
    }
    throw new Error(`${disk} has no ESP`);
  } finally {
    await handle.close();
  }
}

describe.skipIf(skip)("mkosi Format=disk → qemu-img → QEMU boot test", () => {
  let toolbox: Toolbox;
  let scratch: string;
  let work: string;
  let built: MkosiDiskResult;
  const logger = recordingLogger();

  const copyProject = async (name: string): Promise<string> => {
    const project = join(scratch, name);
    await cp(join(repoRoot, "tests/fixtures/mkosi/disk-bootable"), project, { recursive: true });
    await run(join(repoRoot, "examples/sandbox-from-host.sh"), [project, "trixie"]);
    return project;
  };
  const options = (project: string, workDirectory: string): MkosiBuildOptions => ({
    directory: project,
    profiles: [],
    imageVersion: "1.0",
    variables: [],
    args: [],
    sudo: "false",
    mkosi: { kind: "system" },
    cache: false,
    workDirectory,
    sourceDateEpoch: EPOCH,
  });
  const deps = (binds: string[]) => ({
    logger,
    cache: new LocalDirectoryCache(join(scratch, "build-cache")),
    // The toolbox's mkosi first on PATH, and the paths it must see bound into its chroot.
    env: { ...process.env, ...toolbox.env, FROSTYARD_TOOLBOX_BINDS: binds.join(":") },
  });

  beforeAll(async () => {
    toolbox = await ensureToolbox();
    scratch = await mkdtemp(join(tmpdir(), "disk-mkosi-"));
    // Kept between runs on purpose: mkosi's cache (Incremental=yes) lives in it.
    work = join(toolboxCacheDir(), "disk-mkosi-e2e");
    await mkdir(work, { recursive: true });
  }, TOOLBOX_BUILD_TIMEOUT_MS);
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  test("a project whose image is not Format=disk is refused after mkosi summary, before anything is built", async () => {
    const project = await copyProject("directory-project");
    const conf = join(project, "mkosi.conf");
    await writeFile(conf, (await readFile(conf, "utf8")).replace(/^Format=disk$/m, "Format=directory"));
    const out = join(scratch, "refused-out");
    await mkdir(out);
    const refusedWork = join(scratch, "refused-work");
    const attempt = buildMkosiDisk({
      build: options(project, refusedWork),
      deps: deps([scratch]),
      types: ["qcow2"],
      outputDirectory: out,
      name: "disk",
    });
    await expect(attempt).rejects.toThrow(MkosiDiskProjectError);
    await expect(attempt).rejects.toThrow(/Format=directory.*set Format=disk/);
    // Nothing built: mkosi's output directory and ours are empty.
    expect(await readdir(join(refusedWork, "output"))).toEqual([]);
    expect(await readdir(out)).toEqual([]);
  }, 300_000);

  test("mkosi builds the disk; qcow2 (compressed), vmdk, vhd and raw read back by qemu-img info with the raw disk's virtual size", async () => {
    const project = await copyProject("project");
    const out = join(scratch, "out");
    await mkdir(out);
    const started = Date.now();
    built = await buildMkosiDisk({
      build: options(project, work),
      deps: deps([scratch, work]),
      types: ["qcow2", "vmdk", "vhd", "raw"],
      outputDirectory: out,
      name: "disk",
    });
    console.log(`mkosi build + conversion: ${Math.round((Date.now() - started) / 1000)} s`);
    expect(built.raw).toBe(join(work, "output", "frostyard-disk-test_1.0.raw"));
    const rawSize = (await stat(built.raw)).size;
    // A bootable Debian is hundreds of MB; a disk of a few MB would mean mkosi wrote an empty layout.
    expect(rawSize).toBeGreaterThan(300 * 2 ** 20);
    expect(built.artifacts.map((a) => [a.type, a.path])).toEqual(
      ["qcow2", "vmdk", "vhd", "raw"].map((t) => [t, join(out, `disk.${t}`)]),
    );
    for (const artifact of built.artifacts) {
      // Read back here too, independently of the engine's own check. A fixed VHD has its footer only at
      // the end, so qemu-img's probe takes it for raw: the format is named, as the boot test names it.
      const info = JSON.parse(
        (await run("qemu-img", ["info", "--output=json", "-f", QEMU_FORMAT[artifact.type]!, artifact.path]))
          .stdout,
      ) as Record<string, unknown>;
      expect([artifact.type, info.format, info["virtual-size"]]).toEqual([
        artifact.type,
        QEMU_FORMAT[artifact.type],
        rawSize,
      ]);
      expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // The VHD footer ("conectix" cookie) in the last 512 bytes, past the disk's data.
    const vhd = await open(join(out, "disk.vhd"), "r");
    const footer = Buffer.alloc(8);
    await vhd.read(footer, 0, 8, (await stat(join(out, "disk.vhd"))).size - 512);
    await vhd.close();
    expect(footer.toString("latin1")).toBe("conectix");
    const qcow2 = built.artifacts.find((a) => a.type === "qcow2")!;
    const allocated = Number((await run("du", ["-B1", built.raw])).stdout.split("\t")[0]);
    expect(qcow2.size).toBeLessThan(allocated);
    expect(built.build.context.report.timings.entries.map((e) => e.name)).toContain("qemu-img convert");
  }, 1_500_000);

  /** Boots the qcow2 the build test made, its console in `<name>.console.log`, typing `commands`. */
  async function bootBuiltQcow2(name: string, commands: string[]) {
    const consolePath = join(scratch, `${name}.console.log`);
    const result = await bootDisk({
      disk: join(scratch, "out", "disk.qcow2"),
      format: "qcow2",
      arch: "amd64",
      expect: DEFAULT_BOOT_EXPECT,
      timeoutMs: 720_000,
      consolePath,
      logger,
      commands,
    });
    console.log(
      `boot ${name} (${result.accel}): ${Math.round(result.elapsedMs / 1000)} s → ${result.detail}`,
    );
    return { result, consolePath };
  }

  test("the qcow2 boots under QEMU to the default marker (TCG when KVM is missing or cannot run the guest)", async () => {
    expect(built, "the build test must pass first").toBeDefined();
    // Typed into the serial console, where the test project runs a root shell: each must exit 0.
    const { result, consolePath } = await bootBuiltQcow2("qcow2", [
      "grep -q '^ID=debian' /etc/os-release",
      'test "$(id -u)" = 0 && systemctl is-active --quiet systemd-journald',
    ]);
    expect(result, result.tail).toMatchObject({ ok: true });
    expect(result.detail).toMatch(/(login:|Reached target).*; 2 boot command\(s\) succeeded$/);
    expect(result.commands.map((c) => c.exitCode)).toEqual([0, 0]);
    if (result.accel === "tcg")
      expect(logger.lines.join("\n")).toMatch(
        /booting (again )?under TCG \(-accel tcg,thread=multi -cpu max\)/,
      );
    const console_ = await readFile(consolePath, "utf8");
    // The whole console, from the boot loader on: systemd-boot's entry, the kernel, systemd.
    expect(console_).toMatch(/Linux version \d/);
    expect(console_).toMatch(/Welcome to .*Debian/);
    expect(console_).not.toMatch(/Please configure your system/);
  }, 900_000);

  test("a boot command that exits non-zero fails the boot test, naming the command and its status", async () => {
    expect(built, "the build test must pass first").toBeDefined();
    const { result, consolePath } = await bootBuiltQcow2("commands", [
      "true",
      "test -e /nonexistent/frostyard",
      "touch /never-typed",
    ]);
    expect(result.ok, result.tail).toBe(false);
    expect(result.detail).toBe("boot command 2 (test -e /nonexistent/frostyard) exited 1");
    // The first ran and passed; the third was never typed.
    expect(result.commands).toEqual([
      { command: "true", exitCode: 0 },
      { command: "test -e /nonexistent/frostyard", exitCode: 1 },
    ]);
    expect(await readFile(consolePath, "utf8")).not.toContain("touch /never-typed");
  }, 900_000);

  test("the same disk without its ESP (no boot loader, no kernel) fails with the console tail, the whole console kept", async () => {
    expect(built, "the build test must pass first").toBeDefined();
    const broken = join(scratch, "broken.raw");
    await run("cp", ["--sparse=always", built.raw, broken]);
    const esp = await espExtent(broken);
    // Zeroing the whole ESP (file system, systemd-boot, the UKI) leaves the firmware nothing to start.
    await run("dd", [
      "if=/dev/zero",
      `of=${broken}`,
      "bs=512",
      `seek=${esp.firstLba}`,
      `count=${esp.lastLba - esp.firstLba + 1}`,
      "conv=notrunc",
      "status=none",
    ]);
    const consolePath = join(scratch, "broken.console.log");
    const result = await bootDisk({
      disk: broken,
      format: "raw",
      arch: "amd64",
      expect: DEFAULT_BOOT_EXPECT,
      timeoutMs: 480_000,
      consolePath,
      logger,
    });
    console.log(`broken disk (${result.accel}): ${Math.round(result.elapsedMs / 1000)} s → ${result.detail}`);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/firmware found nothing to boot/);
    const tail = result.tail.split("\n");
    expect(tail.length).toBeGreaterThan(1);
    expect(tail.length).toBeLessThanOrEqual(100);
    expect(result.tail).toMatch(/UEFI Interactive Shell/);
    const whole = await readFile(consolePath, "utf8");
    expect(whole).toContain("BdsDxe");
    expect(whole).toContain("UEFI Interactive Shell");
  }, 600_000);
});
