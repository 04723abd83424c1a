import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import {
  bootCommandLines,
  bootCommandStatus,
  BootCommandError,
  checkBootCommands,
  shellProbe,
  BootExpectError,
  compileExpect,
  ConsoleTail,
  judgeConsoleLine,
  kvmUnusable,
  plainConsoleLine,
  qemuBootArgv,
} from "@frostyard/disk";

describe("QEMU argv", () => {
  test("TCG with UEFI firmware", () => {
    expect(
      qemuBootArgv({
        disk: "/o/disk.qcow2",
        format: "qcow2",
        accel: "tcg",
        arch: "amd64",
        firmware: { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/t/vars.fd" },
      }),
    ).toEqual([
      "-machine",
      "q35",
      "-accel",
      "tcg,thread=multi",
      "-cpu",
      "max",
      "-m",
      "2048",
      "-smp",
      "2",
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
      "-drive",
      "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
      "-drive",
      "if=pflash,format=raw,unit=1,file=/t/vars.fd",
      "-drive",
      "file=/o/disk.qcow2,format=qcow2,if=none,id=disk0",
      "-device",
      "virtio-blk-pci,drive=disk0,bootindex=1",
      "-nic",
      "user,model=virtio-net-pci",
    ]);
  });

  test("KVM uses the host CPU", () => {
    const argv = qemuBootArgv({
      disk: "d",
      format: "raw",
      accel: "kvm",
      arch: "amd64",
      memoryMiB: 1024,
      cpus: 1,
    });
    expect(argv.slice(0, 10)).toEqual([
      "-machine",
      "q35",
      "-accel",
      "kvm",
      "-cpu",
      "host",
      "-m",
      "1024",
      "-smp",
      "1",
    ]);
    expect(argv).not.toContain("if=pflash,format=raw,unit=0,readonly=on,file=undefined");
  });
});

describe("console", () => {
  const defaults = compileExpect(undefined);
  test.each([
    ["[  OK  ] Reached target \x1b[0;1;39mmulti-user.target\x1b[0m - Multi-User System.", "up"],
    ["[  OK  ] Reached target graphical.target - Graphical Interface.", "up"],
    ["[  OK  ] Reached target Multi-User System.", "up"],
    ["debian login: ", "up"],
    ["[  OK  ] Reached target network.target - Network.", undefined],
    ["Kernel panic - not syncing: VFS: Unable to mount root fs", "failed"],
    ["You are in emergency mode. After logging in, type", "failed"],
    ["UEFI Interactive Shell v2.2", "failed"],
    ["Please configure your system!", "failed"],
    ["Welcome to Debian GNU/Linux 13 (trixie)!", undefined],
  ])("%j → %s", (line, kind) => {
    expect(judgeConsoleLine(line, defaults)?.kind).toBe(kind);
  });

  test("a failure names its reason", () => {
    expect(judgeConsoleLine("Please configure your system!", defaults)).toEqual({
      kind: "failed",
      line: "Please configure your system!",
      reason: "systemd-firstboot is waiting for input (disable first boot)",
    });
  });

  test("boot-expect replaces the defaults", () => {
    const custom = compileExpect("Reached target .*network\\.target");
    expect(judgeConsoleLine("[  OK  ] Reached target network.target - Network.", custom)?.kind).toBe("up");
    expect(judgeConsoleLine("debian login: ", custom)).toBeUndefined();
    expect(() => compileExpect("(")).toThrow(BootExpectError);
  });

  test("ANSI colours and carriage returns are stripped", () => {
    expect(plainConsoleLine("\x1b[0;32m  OK  \x1b[0m]\r")).toBe("  OK  ]");
  });

  test("the tail keeps the last lines", () => {
    const tail = new ConsoleTail(3);
    for (let n = 1; n <= 5; n++) tail.push(`line ${n}`);
    expect(tail.text).toBe("line 3\nline 4\nline 5");
  });

  test.each([
    [["KVM internal error. Suberror: 1", "emulation failure"], "KVM internal error. Suberror: 1"],
    [
      ["qemu-system-x86_64: error: failed to set MSR 0x345 to 0x2000"],
      "qemu-system-x86_64: error: failed to set MSR 0x345 to 0x2000",
    ],
    [["some other error"], undefined],
  ])("KVM unusable from %j", (stderr, expected) => {
    expect(kvmUnusable(stderr)).toBe(expected);
  });
});

describe("boot commands over the serial console", () => {
  const nonce = "0a1b2c3d";

  // The markers must come only from the shell's output, never from the console's echo of the typed line:
  // run the typed lines through a real bash and compare what it prints with what was typed.
  test("the probe's output is its marker; the typed line is not", () => {
    const probe = shellProbe(nonce);
    expect(probe.marker).toBe("__frostyard_ready_0a1b2c3d");
    expect(probe.line).not.toContain(probe.marker);
    expect(execFileSync("bash", ["-c", probe.line], { encoding: "utf8" })).toBe(`${probe.marker}\n`);
  });

  test.each([
    ["true", 0],
    ["false", 1],
    ["exit_code() { return 7; }; exit_code", 7],
    ["test -e /nonexistent/frostyard", 1],
  ])("`%s` reports status %i through its marker line", (command, status) => {
    const lines = bootCommandLines(command, 2, nonce);
    expect(lines[0]).toBe(command);
    for (const line of lines) expect(bootCommandStatus(line, 2, nonce)).toBeUndefined();
    const printed = execFileSync("bash", ["-c", `${lines.join("\n")}\n`], { encoding: "utf8" }).trim();
    expect(bootCommandStatus(printed, 2, nonce)).toBe(status);
  });

  test.each([
    ["__frostyard_rc_0a1b2c3d_2=0", 2, 0],
    ["__frostyard_rc_0a1b2c3d_2=127\r", 2, 127],
    ["\x1b[0m__frostyard_rc_0a1b2c3d_2=3  ", 2, 3],
    ["__frostyard_rc_0a1b2c3d_1=0", 2, undefined],
    ["__frostyard_rc_ffffffff_2=0", 2, undefined],
    ["root@host:~# printf '%s%s=%d\\n' __frostyard_ rc_0a1b2c3d_2 $?", 2, undefined],
    ["x__frostyard_rc_0a1b2c3d_2=0", 2, undefined],
  ])("status of console line %j for command %i: %s", (line, index, status) => {
    expect(bootCommandStatus(line, index, nonce)).toBe(status);
  });

  test.each([
    ["systemctl is-system-running --wait", undefined],
    ["printf 'a\\tb'", undefined],
    ["echo \u001b[2J", "holds a control character"],
    ["echo a\rb", "holds a control character"],
  ])("checkBootCommands(%j)", (command, problem) => {
    if (problem === undefined) expect(checkBootCommands([command])).toEqual([command]);
    else expect(() => checkBootCommands([command])).toThrow(BootCommandError);
  });
});
