/**
 * actions/disk-image's mkosi engine and boot test, in one run: tests/fixtures/mkosi/disk-bootable built by
 * mkosi 25.3 (trixie toolbox) on the shared build path; then the conversion of its raw disk into each type
 * through our path (convertRawDisk: qemu-img convert, the `qemu-img info` check, sha256 and the .sha256
 * file) against plain `qemu-img convert` of the same disk with the same options, and with qemu-img's
 * defaults; then the boot test of the qcow2 to the default marker (KVM when it works, TCG otherwise).
 * `uptime`'s load is recorded beside every phase: the machine is shared. Prints a markdown table and, unless
 * --no-docs, writes docs/benchmarks/disk-image.md (a "## Notes" section written by hand is kept).
 *
 *   npm run bench:disk [-- --no-docs --repeat 3 --disk PATH.raw --no-boot]
 *
 * `--disk` skips the mkosi build and converts (and boots) that raw disk instead.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  bootDisk,
  buildMkosiDisk,
  convertArgv,
  convertRawDisk,
  DEFAULT_BOOT_EXPECT,
  QEMU_FORMAT,
} from "@frostyard/disk";
import { consoleLogger, formatBytes, formatDuration, recordingLogger, type Logger } from "@frostyard/kit";
import { LocalDirectoryCache } from "@frostyard/mkosi";
import { repoRoot } from "../tests/helpers/run-action";
import { ensureToolbox, toolboxCacheDir } from "../tests/helpers/toolbox";
import { writeBenchDoc } from "./bench-doc";

interface Args {
  writeDocs: boolean;
  repeat: number;
  disk?: string;
  boot: boolean;
}

/** Anything unknown is refused before an expensive run rewrites the docs. */
function parseArgs(args: readonly string[]): Args {
  const parsed: Args = { writeDocs: true, repeat: 3, boot: true };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--no-docs") parsed.writeDocs = false;
    else if (args[i] === "--no-boot") parsed.boot = false;
    else if (args[i] === "--repeat" && /^[1-9]\d*$/.test(args[i + 1] ?? ""))
      parsed.repeat = Number(args[++i]);
    else if (args[i] === "--disk" && args[i + 1]) parsed.disk = args[++i]!;
    else
      throw new Error(
        `unknown argument '${args[i]}'; expected --no-docs, --no-boot, --repeat N (N ≥ 1), --disk PATH`,
      );
  }
  return parsed;
}

const args = parseArgs(process.argv.slice(2));
const quiet: Logger = { ...consoleLogger, info: () => {}, debug: () => {} };
const TYPES = ["qcow2", "vmdk", "vhd", "raw"] as const;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
const mibPerSecond = (bytes: number, ms: number) => `${(bytes / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s`;

function qemuImg(argv: string[]): number {
  const t = performance.now();
  execFileSync("qemu-img", argv, { stdio: ["ignore", "ignore", "inherit"] });
  return performance.now() - t;
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-bench-disk-"));
  const notes: string[] = [];
  try {
    let raw = args.disk;
    let buildLine = "not measured (`--disk` given)";
    if (!raw) {
      const toolbox = await ensureToolbox();
      const project = join(scratch, "project");
      await cp(join(repoRoot, "tests/fixtures/mkosi/disk-bootable"), project, { recursive: true });
      execFileSync(join(repoRoot, "examples/sandbox-from-host.sh"), [project, "trixie"]);
      // The e2e's work directory (tests/e2e/disk-mkosi.test.ts): its incremental image makes this the warm
      // build once either has run. Not to be run while that test runs.
      const work = join(toolboxCacheDir(), "disk-mkosi-e2e");
      await mkdir(work, { recursive: true });
      const before = load();
      const t = performance.now();
      const built = await buildMkosiDisk({
        build: {
          directory: project,
          profiles: [],
          imageVersion: "1.0",
          variables: [],
          args: [],
          sudo: "false",
          mkosi: { kind: "system" },
          cache: false,
          workDirectory: work,
          sourceDateEpoch: 1735689600,
        },
        deps: {
          logger: recordingLogger(),
          cache: new LocalDirectoryCache(join(scratch, "build-cache")),
          env: { ...process.env, ...toolbox.env, FROSTYARD_TOOLBOX_BINDS: `${scratch}:${work}` },
        },
        types: [],
        outputDirectory: scratch,
        name: "unused",
      });
      raw = built.raw;
      buildLine = `${formatDuration(performance.now() - t)} (load before ${before}, after ${load()}; incremental cache in ${work})`;
    }
    const virtualSize = (await stat(raw)).size;
    const allocated = Number(execFileSync("du", ["-B1", raw], { encoding: "utf8" }).split("\t")[0]);

    const rows: string[][] = [];
    const conversionLoad = load();
    for (const type of TYPES) {
      const ours: number[] = [];
      const same: number[] = [];
      const plain: number[] = [];
      let size = 0;
      for (let i = 0; i < args.repeat; i++) {
        const out = join(scratch, `ours-${i}`);
        await mkdir(out, { recursive: true });
        let t = performance.now();
        const [artifact] = await convertRawDisk({
          source: raw,
          types: [type],
          outputDirectory: out,
          name: "disk",
          logger: quiet,
        });
        ours.push(performance.now() - t);
        size = artifact!.size;
        await rm(out, { recursive: true, force: true });
        const target = join(scratch, `plain.${type}`);
        same.push(qemuImg(convertArgv(type, raw, target)));
        await rm(target, { force: true });
        t = performance.now();
        plain.push(qemuImg(["convert", "-f", "raw", "-O", QEMU_FORMAT[type]!, raw, target]));
        await rm(target, { force: true });
      }
      rows.push([
        type,
        formatBytes(size),
        `${formatDuration(median(ours))} (${mibPerSecond(virtualSize, median(ours))})`,
        `${formatDuration(median(same))} (${mibPerSecond(virtualSize, median(same))})`,
        `${formatDuration(median(plain))} (${mibPerSecond(virtualSize, median(plain))})`,
      ]);
    }

    let bootLines: string[] = ["Not run (`--no-boot`)."];
    if (args.boot) {
      const out = join(scratch, "boot");
      await mkdir(out);
      const [qcow2] = await convertRawDisk({
        source: raw,
        types: ["qcow2"],
        outputDirectory: out,
        name: "disk",
        logger: quiet,
      });
      const before = load();
      const logger = recordingLogger();
      const result = await bootDisk({
        disk: qcow2!.path,
        format: "qcow2",
        arch: "amd64",
        expect: DEFAULT_BOOT_EXPECT,
        timeoutMs: 1_200_000,
        consolePath: join(out, "console.log"),
        logger,
      });
      if (!result.ok) throw new Error(`the boot failed: ${result.detail}\n${result.tail}`);
      const accelNote = logger.lines.find((l) => /TCG|KVM/.test(l));
      bootLines = [
        "| disk | accelerator | time to the marker | marker | load before / after |",
        "| --- | --- | --- | --- | --- |",
        `| qcow2 (${formatBytes(qcow2!.size)}) | ${result.accel} | ${formatDuration(result.elapsedMs)} | \`${result.detail.trim().slice(0, 60)}\` | ${before} / ${load()} |`,
      ];
      if (accelNote) notes.push(`Accelerator: ${accelNote.replace(/^warning: /, "")}`);
    }

    const lines = [
      "# disk-image benchmark",
      "",
      `Generated by \`npm run bench:disk\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} cores, mkosi from the trixie toolbox, Debian 12's qemu-img and qemu-system-x86 with OVMF).`,
      "Disk: `tests/fixtures/mkosi/disk-bootable` (Debian trixie, linux-image-cloud-amd64, systemd, systemd-boot; `Format=disk`), " +
        `virtual size ${formatBytes(virtualSize)}, ${formatBytes(allocated)} allocated.`,
      "",
      `mkosi build: ${buildLine}.`,
      "",
      "## Conversion",
      "",
      `Median of ${args.repeat}, load at the start ${conversionLoad}. Throughput is the virtual size over the time. *Ours* is \`convertRawDisk\` (qemu-img convert with our options, \`qemu-img info\` read back and checked, sha256 and the \`.sha256\` file); *same options* is plain \`qemu-img convert\` with our argv; *qemu-img defaults* is \`qemu-img convert -f raw -O <format>\` (qcow2 uncompressed, vhd dynamic).`,
      "",
      "| type | size | ours | same options | qemu-img defaults |",
      "| --- | --- | --- | --- | --- |",
      ...rows.map((r) => `| ${r.join(" | ")} |`),
      "",
      "## Boot test",
      "",
      ...bootLines,
      "",
      ...notes.map((n) => `${n}\n`),
    ];
    const markdown = lines.join("\n");
    console.log(markdown);
    if (args.writeDocs) {
      const file = join(repoRoot, "docs/benchmarks/disk-image.md");
      await writeBenchDoc(file, markdown);
      console.log(`wrote ${file}`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
