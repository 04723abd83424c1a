import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bootDisk, DEFAULT_BOOT_EXPECT } from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import { installQemuStandIn } from "../helpers/qemu-stand-in";

/**
 * The boot test's KVM fallback. This machine has no /dev/kvm, and the machines that have one here fail
 * guests ("KVM internal error … emulation failure"), so a working or a broken KVM cannot be had for real:
 * a stand-in `qemu-system-x86_64` first on PATH plays QEMU. Under `-accel kvm` it prints what QEMU prints
 * when KVM cannot run the guest and then, like QEMU with a paused guest, waits; under TCG it prints a login
 * prompt without a newline, as a getty does. It records each argv, so the test sees the accelerators tried.
 * The real QEMU under TCG is exercised by disk-mkosi.test.ts.
 */
const STANDIN = `#!/bin/sh
echo "$*" >> "$ARGV_LOG"
case "$*" in
  *"-accel kvm"*)
    echo "KVM internal error. Suberror: 1" >&2
    echo "emulation failure" >&2
    exec sleep 600 ;;
  *)
    echo "Welcome to Debian GNU/Linux 13 (trixie)!"
    printf 'localhost login: '
    exec sleep 600 ;;
esac
`;

describe("boot test: a KVM that cannot run the guest falls back to TCG at once", () => {
  let dir: string;
  let restore: (alsoUnset?: readonly string[]) => Promise<void>;
  beforeAll(async () => {
    ({ dir, restore } = await installQemuStandIn(STANDIN, "disk-kvm-fallback-"));
  });
  afterAll(() => restore?.());

  test("the paused KVM guest is abandoned on its stderr, TCG boots; the next disk goes straight to TCG", async () => {
    const logger = recordingLogger();
    const boot = (name: string) =>
      bootDisk({
        disk: join(dir, "disk.raw"),
        format: "raw",
        arch: "amd64",
        expect: DEFAULT_BOOT_EXPECT,
        // Far beyond the test's timeout: only the early abort makes the first attempt end in time.
        timeoutMs: 600_000,
        consolePath: join(dir, `${name}.console.log`),
        logger,
        kvmPresent: async () => true,
      });
    const started = Date.now();
    const first = await boot("first");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(first).toMatchObject({ ok: true, accel: "tcg", detail: "localhost login: " });
    expect(logger.lines).toContainEqual(
      expect.stringMatching(
        /^warning: KVM is present but cannot run the guest \(KVM internal error\. Suberror: 1\); booting again under TCG \(-accel tcg,thread=multi -cpu max\)/,
      ),
    );
    const second = await boot("second");
    expect(second).toMatchObject({ ok: true, accel: "tcg" });
    expect(logger.lines).toContainEqual(
      "KVM failed an earlier guest (KVM internal error. Suberror: 1): booting under TCG",
    );
    const accels = (await readFile(join(dir, "argv.log"), "utf8"))
      .trim()
      .split("\n")
      .map((argv) => / -accel (\S+) -cpu (\S+) /.exec(argv)?.slice(1).join(" "));
    expect(accels).toEqual(["kvm host", "tcg,thread=multi max", "tcg,thread=multi max"]);
    // The console as the guest wrote it, the prompt included though it has no newline.
    expect(await readFile(join(dir, "second.console.log"), "utf8")).toBe(
      "Welcome to Debian GNU/Linux 13 (trixie)!\nlocalhost login: \n",
    );
  }, 60_000);
});
