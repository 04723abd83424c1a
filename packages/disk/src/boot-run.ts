import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, constants, copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { LineSplitter, type Logger } from "@frostyard/kit";
import {
  bootCommandLines,
  bootCommandStatus,
  ConsoleTail,
  judgeConsoleLine,
  kvmUnusable,
  OVMF_CANDIDATES,
  plainConsoleLine,
  qemuBinary,
  qemuBootArgv,
  shellProbe,
  type Accel,
} from "./boot";
import type { Arch } from "./types";

export interface BootResult {
  ok: boolean;
  accel: Accel;
  /** Milliseconds from QEMU's start to the marker line (or to the failure). */
  elapsedMs: number;
  /** The marker line, or why the boot failed. */
  detail: string;
  /** The last console lines (100). */
  tail: string;
  /** The whole console, written for the artifact. */
  consoleLog: string;
  /** Each boot command run, with the exit status the guest's shell reported. */
  commands: { command: string; exitCode: number }[];
}

/** How often the shell probe is typed again while no shell answers (a getty flushes what came before it). */
const PROBE_INTERVAL_MS = 3000;

/**
 * A guest that has written to its console and then writes nothing for this long before the marker has
 * stalled. Seen here under TCG (QEMU 7.2, -accel tcg,thread=multi): a guest that booted the same disk to
 * multi-user.target in 50 s once stopped at 48 s with its vCPUs halted and never wrote again. A boot that is
 * slow but alive keeps writing (systemd's status lines, the kernel's messages); the window is generous for
 * a disk whose kernel does not log to the serial console and whose getty comes late.
 */
export const STALL_MS = 240_000;

async function readable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

/** Whether /dev/kvm can be opened; whether a guest then runs is only known by trying. */
export async function kvmAvailable(): Promise<boolean> {
  return access("/dev/kvm", constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
}

async function bootOnce(
  argv: string[],
  arch: Arch,
  expect: readonly RegExp[],
  timeoutMs: number,
  consolePath: string,
  accel: Accel,
  commands: readonly string[],
  stallMs: number,
): Promise<BootResult & { kvmBroken?: string; stalled?: boolean }> {
  const tail = new ConsoleTail(100);
  const stderr: string[] = [];
  const all: string[] = [];
  // Written as it comes, so a step killed mid-boot still leaves the console it saw.
  const consoleFile = createWriteStream(consolePath);
  const started = Date.now();
  // The serial console is QEMU's stdio: what is written to its stdin is typed into the guest.
  const child = spawn(qemuBinary(arch), argv, { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.on("error", () => undefined); // QEMU gone: its exit is reported by "close"
  const nonce = randomBytes(4).toString("hex");
  const ran: { command: string; exitCode: number }[] = [];
  /** Set once the boot marker is seen and there are commands: the console is then a shell session. */
  let session: { upLine: string; ready: boolean; index: number; probe?: NodeJS.Timeout } | undefined;
  const type = (lines: readonly string[]) => child.stdin.write(lines.map((l) => `${l}\n`).join(""));
  return new Promise((resolve) => {
    let done = false;
    let lastOutput: number | undefined;
    const finish = (ok: boolean, detail: string, kvmBroken?: string, stalled?: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(watchdog);
      if (session?.probe) clearInterval(session.probe);
      child.kill("SIGKILL");
      const consoleLog = all.join("\n") + "\n";
      const elapsedMs = Date.now() - started;
      consoleFile.end(() =>
        resolve({
          ok,
          accel,
          elapsedMs,
          detail,
          tail: tail.text,
          consoleLog,
          commands: ran,
          ...(kvmBroken ? { kvmBroken } : {}),
          ...(stalled ? { stalled } : {}),
        }),
      );
    };
    const timer = setTimeout(() => {
      if (!session) finish(false, `no marker within ${Math.round(timeoutMs / 1000)} s`);
      else if (!session.ready)
        finish(false, `no shell answered on the serial console within ${Math.round(timeoutMs / 1000)} s`);
      else
        finish(
          false,
          `boot command ${session.index + 1} (${commands[session.index]}) did not finish within ${Math.round(timeoutMs / 1000)} s`,
        );
    }, timeoutMs);
    // Only before the marker: once a shell session runs, a boot command may rightly be silent for long.
    const watchdog = setInterval(
      () => {
        if (session || lastOutput === undefined || Date.now() - lastOutput < stallMs) return;
        finish(
          false,
          `the guest wrote nothing to its console for ${Math.round(stallMs / 1000)} s before the marker (stalled)`,
          undefined,
          true,
        );
      },
      Math.min(5000, stallMs),
    );
    const probe = shellProbe(nonce);
    const typeCommand = (index: number) => type(bootCommandLines(commands[index]!, index, nonce));
    /** The console once the OS is up: wait for a shell, then run each command and read its status. */
    const onSessionLine = (line: string) => {
      if (!session) return;
      if (!session.ready) {
        if (plainConsoleLine(line).trim() !== probe.marker) return;
        session.ready = true;
        clearInterval(session.probe);
        typeCommand(0);
        return;
      }
      const status = bootCommandStatus(line, session.index, nonce);
      if (status === undefined) return;
      const command = commands[session.index]!;
      ran.push({ command, exitCode: status });
      if (status !== 0) {
        finish(false, `boot command ${session.index + 1} (${command}) exited ${status}`);
        return;
      }
      session.index += 1;
      if (session.index < commands.length) typeCommand(session.index);
      else finish(true, `${session.upLine}; ${commands.length} boot command(s) succeeded`);
    };
    const decoder = new StringDecoder("utf8");
    let pending = "";
    const onLine = (line: string) => {
      if (done) return;
      tail.push(line);
      all.push(line);
      consoleFile.write(`${line}\n`);
      if (session) return onSessionLine(line);
      const verdict = judgeConsoleLine(line, expect);
      if (verdict?.kind === "up") {
        if (commands.length === 0) return finish(true, verdict.line);
        session = { upLine: verdict.line, ready: false, index: 0 };
        type([probe.line]);
        session.probe = setInterval(() => type(["", probe.line]), PROBE_INTERVAL_MS);
      } else if (verdict?.kind === "failed") finish(false, `${verdict.reason}: ${verdict.line}`);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      lastOutput = Date.now();
      const parts = (pending + decoder.write(chunk)).split("\n");
      pending = parts.pop()!;
      for (const line of parts) onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
      // A getty's "host login: " ends without a newline: the prompt waits on the same line.
      if (!session && pending !== "" && judgeConsoleLine(pending, expect)?.kind === "up") {
        onLine(pending);
        pending = "";
      }
    });
    const errLines = new LineSplitter((line) => {
      stderr.push(line);
      // A KVM guest that hits an emulation failure is paused, not ended: waiting would use up the timeout.
      const broken = accel === "kvm" ? kvmUnusable([line]) : undefined;
      if (broken) finish(false, `KVM cannot run the guest: ${broken}`, broken);
    });
    child.stderr.on("data", (chunk: Buffer) => errLines.push(chunk));
    child.on("error", (error) => finish(false, `QEMU did not start: ${error.message}`));
    // "close", not "exit": the pipes are drained by then, so the last lines are judged and kept.
    child.on("close", (code, signal) => {
      if (pending !== "") onLine(pending);
      errLines.end();
      const broken = accel === "kvm" ? kvmUnusable(stderr) : undefined;
      finish(
        false,
        `QEMU exited (${signal ?? code}) before the marker${stderr.length ? `: ${stderr.slice(-3).join(" | ")}` : ""}`,
        broken,
      );
    });
  });
}

/** What this process learnt about KVM: a KVM that failed one guest is not tried again for the next disk. */
let kvmVerdict: { usable: true } | { usable: false; why: string } | undefined;

/**
 * Boots a VM disk with its console on QEMU's stdout and waits for the marker. KVM first when /dev/kvm opens;
 * a KVM that cannot run the guest (nested virtualisation missing MSRs, "emulation failure") is said in the
 * log and the boot is retried under TCG.
 */
export async function bootDisk(options: {
  disk: string;
  format: string;
  arch: Arch;
  expect: readonly RegExp[];
  timeoutMs: number;
  consolePath: string;
  logger: Logger;
  uefi?: boolean;
  /** Whether /dev/kvm opens; replaceable where a test stands in for a KVM the machine lacks. */
  kvmPresent?: () => Promise<boolean>;
  /**
   * Typed into the serial console once the marker is seen, one after another; each must exit 0. The image
   * must give a shell there (a root shell or an autologin on the serial getty, as test images have).
   */
  commands?: readonly string[];
  /** How long a console may stay silent before the marker; STALL_MS unless a test shortens it. */
  stallMs?: number;
}): Promise<BootResult> {
  const { logger } = options;
  const scratch = await mkdtemp(join(tmpdir(), "disk-boot-"));
  try {
    let firmware: { code: string; vars: string } | undefined;
    if (options.uefi ?? true) {
      for (const candidate of OVMF_CANDIDATES)
        if ((await readable(candidate.code)) && (await readable(candidate.vars))) {
          // Each boot writes its own copy of the variable store: the packaged one is read-only and shared.
          const vars = join(scratch, "OVMF_VARS.fd");
          await copyFile(candidate.vars, vars);
          firmware = { code: candidate.code, vars };
          break;
        }
      if (!firmware)
        throw new Error(`no UEFI firmware found (${OVMF_CANDIDATES.map((c) => c.code).join(", ")})`);
    }
    const attempt = (accel: Accel, timeoutMs = options.timeoutMs) =>
      bootOnce(
        qemuBootArgv({
          disk: options.disk,
          format: options.format,
          accel,
          arch: options.arch,
          ...(firmware ? { firmware } : {}),
        }),
        options.arch,
        options.expect,
        timeoutMs,
        options.consolePath,
        accel,
        options.commands ?? [],
        options.stallMs ?? STALL_MS,
      );
    if (kvmVerdict?.usable === false) {
      logger.info(`KVM failed an earlier guest (${kvmVerdict.why}): booting under TCG`);
    } else if (await (options.kvmPresent ?? kvmAvailable)()) {
      const result = await attempt("kvm");
      if (!result.kvmBroken) {
        kvmVerdict = { usable: true };
        return result;
      }
      kvmVerdict = { usable: false, why: result.kvmBroken };
      logger.warning(
        `KVM is present but cannot run the guest (${result.kvmBroken}); booting again under TCG (-accel tcg,thread=multi -cpu max), which is slower`,
      );
    } else {
      logger.info(
        "/dev/kvm cannot be opened: booting under TCG (-accel tcg,thread=multi -cpu max), emulation, slower",
      );
    }
    const tcg = await attempt("tcg");
    // An emulated guest that stalled gets one more boot within what is left of boot-timeout: the stall is
    // the emulator's (the same disk boots on the next try), and a disk that really hangs stalls twice.
    const left = options.timeoutMs - tcg.elapsedMs;
    if (!tcg.stalled || left < 60_000) return tcg;
    logger.warning(`${tcg.detail}; booting once more under TCG within the ${Math.round(left / 1000)} s left`);
    const again = await attempt("tcg", left);
    return { ...again, elapsedMs: tcg.elapsedMs + again.elapsedMs };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
