import type { Arch } from "./types";

export type Accel = "kvm" | "tcg";

export interface QemuBootOptions {
  disk: string;
  /** qemu's name for the disk's format (raw, qcow2, vmdk, vpc). */
  format: string;
  accel: Accel;
  arch: Arch;
  /** UEFI firmware: a read-only code image and a writable copy of the variable store. */
  firmware?: { code: string; vars: string };
  memoryMiB?: number;
  cpus?: number;
}

/** The QEMU system emulator for a guest architecture. */
export function qemuBinary(arch: Arch): string {
  return arch === "amd64" ? "qemu-system-x86_64" : "qemu-system-aarch64";
}

/**
 * QEMU arguments for a boot test: no display, the first serial port on stdout (the console we watch), the
 * disk in snapshot mode (the file under test is never written), no reboot (a guest that resets has failed).
 * Under TCG `-cpu max` and multi-threaded TCG: `-cpu host` exists only with KVM. No default devices and a
 * strict boot order with the disk alone in it: otherwise a disk the firmware cannot boot is followed by
 * minutes of network boot (iPXE, then OVMF's PXE over IPv4 and IPv6) before the firmware gives up; with
 * it, OVMF goes straight to its shell, which the console judge reads as a failure.
 */
export function qemuBootArgv(options: QemuBootOptions): string[] {
  const machine = options.arch === "amd64" ? "q35" : "virt";
  return [
    "-machine",
    machine,
    "-accel",
    options.accel === "kvm" ? "kvm" : "tcg,thread=multi",
    "-cpu",
    options.accel === "kvm" ? "host" : "max",
    "-m",
    String(options.memoryMiB ?? 2048),
    "-smp",
    String(options.cpus ?? 2),
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-snapshot",
    "-nodefaults",
    "-boot",
    "strict=on",
    ...(options.firmware
      ? [
          "-drive",
          `if=pflash,format=raw,unit=0,readonly=on,file=${options.firmware.code}`,
          "-drive",
          `if=pflash,format=raw,unit=1,file=${options.firmware.vars}`,
        ]
      : []),
    "-drive",
    `file=${options.disk},format=${options.format},if=none,id=disk0`,
    "-device",
    "virtio-blk-pci,drive=disk0,bootindex=1",
    "-nic",
    "user,model=virtio-net-pci",
  ];
}

/** Debian's OVMF paths (package ovmf): the 4M build, whose variable store must be copied per boot. */
export const OVMF_CANDIDATES: readonly { code: string; vars: string }[] = [
  { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" },
  { code: "/usr/share/OVMF/OVMF_CODE.fd", vars: "/usr/share/OVMF/OVMF_VARS.fd" },
  { code: "/usr/share/edk2/ovmf/OVMF_CODE.fd", vars: "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
];

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r/g;

/** A console line as a person reads it: systemd colours its status words and the firmware moves the cursor. */
export function plainConsoleLine(line: string): string {
  return line.replace(ANSI, "");
}

/**
 * The default "the OS came up" markers: systemd reaching the default target (multi-user or graphical) or a
 * getty's login prompt.
 */
export const DEFAULT_BOOT_EXPECT: readonly RegExp[] = [
  /Reached target .*(multi-user\.target|graphical\.target|Multi-User System|Graphical Interface)/,
  /^\S+ login:\s*$/,
];

/** Lines that mean the boot has failed and waiting longer is pointless. */
export const BOOT_FAILURES: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /Kernel panic - not syncing/, reason: "the kernel panicked" },
  { pattern: /You are in emergency mode/, reason: "systemd dropped to emergency mode" },
  { pattern: /UEFI Interactive Shell/, reason: "the firmware found nothing to boot and started its shell" },
  {
    pattern: /Please configure your system!/,
    reason: "systemd-firstboot is waiting for input (disable first boot)",
  },
];

/** A `boot-expect` value is a regular expression; an invalid one is the input's error. */
export class BootExpectError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`'${pattern.slice(0, 80)}' is not a regular expression: ${reason}`);
    this.name = "BootExpectError";
  }
}

export function compileExpect(pattern: string | undefined): readonly RegExp[] {
  if (pattern === undefined || pattern === "") return DEFAULT_BOOT_EXPECT;
  try {
    return [new RegExp(pattern)];
  } catch (error) {
    throw new BootExpectError(pattern, error instanceof Error ? error.message : String(error));
  }
}

export type ConsoleVerdict = { kind: "up"; line: string } | { kind: "failed"; line: string; reason: string };

/** What one console line says about the boot, if anything. */
export function judgeConsoleLine(raw: string, expect: readonly RegExp[]): ConsoleVerdict | undefined {
  const line = plainConsoleLine(raw);
  if (expect.some((e) => e.test(line))) return { kind: "up", line };
  for (const f of BOOT_FAILURES) if (f.pattern.test(line)) return { kind: "failed", line, reason: f.reason };
  return undefined;
}

/** The last `size` lines of a console, for the log and the summary when a boot fails. */
export class ConsoleTail {
  private readonly lines: string[] = [];
  constructor(private readonly size = 100) {}
  push(line: string): void {
    this.lines.push(plainConsoleLine(line));
    if (this.lines.length > this.size) this.lines.shift();
  }
  get text(): string {
    return this.lines.join("\n");
  }
}

/** A KVM that exists but cannot run a guest (nested virtualisation without the MSRs QEMU asks for). */
export function kvmUnusable(stderr: readonly string[]): string | undefined {
  const line = stderr.find((l) =>
    /KVM internal error|emulation failure|failed to set MSR|kvm_init_vcpu failed|Could not access KVM kernel module|failed to initialize kvm/i.test(
      l,
    ),
  );
  return line?.trim();
}

/**
 * `boot-commands` are typed into the serial console once the boot marker was seen. The console echoes what
 * is typed, so every marker the runner waits for is printed by `printf` from two pieces: the typed line holds
 * `__frostyard_ ready_…` (with a space), only the shell's output holds the joined word. The nonce keeps a
 * marker from an earlier boot, or one a command prints, from being taken for this one.
 */
export function shellProbe(nonce: string): { line: string; marker: string } {
  return { line: `printf '%s%s\\n' __frostyard_ ready_${nonce}`, marker: `__frostyard_ready_${nonce}` };
}

/** The lines typed for one boot command: the command itself, then its exit status as a marker line. */
export function bootCommandLines(command: string, index: number, nonce: string): string[] {
  return [command, `printf '%s%s=%d\\n' __frostyard_ rc_${nonce}_${index} $?`];
}

/** The exit status a console line reports for boot command `index`, if it is that command's marker. */
export function bootCommandStatus(raw: string, index: number, nonce: string): number | undefined {
  const match = new RegExp(`^__frostyard_rc_${nonce}_${index}=(\\d+)$`).exec(plainConsoleLine(raw).trim());
  return match ? Number(match[1]) : undefined;
}

/** A boot command is one line typed into a shell: a newline would type two, and a NUL cannot be typed. */
export class BootCommandError extends Error {
  constructor(
    readonly command: string,
    reason: string,
  ) {
    super(`'${command.slice(0, 80)}' ${reason}`);
    this.name = "BootCommandError";
  }
}

export function checkBootCommands(commands: readonly string[]): string[] {
  for (const command of commands) {
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(command))
      throw new BootCommandError(command, "holds a control character (one command per line, typed as is)");
  }
  return [...commands];
}
