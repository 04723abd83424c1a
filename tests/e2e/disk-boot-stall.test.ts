import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bootDisk, DEFAULT_BOOT_EXPECT, STALL_MS } from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import { installQemuStandIn } from "../helpers/qemu-stand-in";

/**
 * The boot test's stall watchdog, with a stand-in QEMU. Why not the real one, which does run here
 * (disk-mkosi.test.ts boots real disks with it): the stall is a fault of QEMU's multi-threaded TCG that
 * came twice in many boots and cannot be caused on purpose, so no real boot can be made to stall, or to
 * stall on exactly the first of two boots, as the three cases below need. The real stall (a TCG guest that booted the same disk in 50 s once went
 * silent at 48 s with its vCPUs halted, and never wrote again) cannot be produced on demand, so a stand-in
 * `qemu-system-x86_64` first on PATH plays the guest: on the boots listed in $STALL_ON it prints the start of
 * a boot and then, like the stalled guest, stays alive and silent; on the others it prints a login prompt
 * without a newline, as a getty does. It counts its runs and records each argv. The real QEMU boots are in
 * disk-mkosi.test.ts.
 */
const STANDIN = `#!/bin/sh
n=$(( $(cat "$RUNS" 2>/dev/null || echo 0) + 1 )); echo $n > "$RUNS"
echo "$*" >> "$ARGV_LOG"
echo "BdsDxe: starting Boot0001"
echo "[    0.000000] Linux version 6.12.0-1-cloud-amd64"
case " $STALL_ON " in
  *" $n "*) exec sleep 600 ;;
esac
printf 'localhost login: '
exec sleep 600
`;

describe("boot test: a guest that stalls before the marker is booted once more under TCG", () => {
  let dir: string;
  let restore: (alsoUnset?: readonly string[]) => Promise<void>;
  beforeAll(async () => {
    ({ dir, restore } = await installQemuStandIn(STANDIN, "disk-boot-stall-"));
  });
  afterAll(() => restore?.(["RUNS", "STALL_ON"]));

  const boot = (name: string, stallOn: string, timeoutMs = 120_000) => {
    process.env.RUNS = join(dir, `${name}.runs`);
    process.env.STALL_ON = stallOn;
    const logger = recordingLogger();
    return bootDisk({
      disk: join(dir, "disk.raw"),
      format: "raw",
      arch: "amd64",
      expect: DEFAULT_BOOT_EXPECT,
      timeoutMs,
      consolePath: join(dir, `${name}.console.log`),
      logger,
      kvmPresent: async () => false,
      stallMs: 2000,
    }).then((result) => ({ result, logger }));
  };
  const runs = async (name: string) => Number((await readFile(join(dir, `${name}.runs`), "utf8")).trim());

  test("the default window is generous: four minutes of silence", () => {
    expect(STALL_MS).toBe(240_000);
  });

  test("a first boot that stalls is abandoned after the window, and the second boot reaches the marker", async () => {
    const started = Date.now();
    const { result, logger } = await boot("once", "1");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result).toMatchObject({ ok: true, accel: "tcg", detail: "localhost login: " });
    expect(await runs("once")).toBe(2);
    expect(logger.lines).toContainEqual(
      expect.stringMatching(
        /^warning: the guest wrote nothing to its console for 2 s before the marker \(stalled\); booting once more under TCG within the \d+ s left$/,
      ),
    );
    // The console kept is the boot that came up.
    expect(await readFile(join(dir, "once.console.log"), "utf8")).toMatch(/localhost login: \n$/);
  }, 60_000);

  test("a disk that stalls twice fails as stalled, after two boots, long before boot-timeout", async () => {
    const started = Date.now();
    const { result } = await boot("twice", "1 2");
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe("the guest wrote nothing to its console for 2 s before the marker (stalled)");
    expect(result.tail).toContain("Linux version 6.12.0-1-cloud-amd64");
    expect(await runs("twice")).toBe(2);
  }, 60_000);

  test("no second boot when less than a minute of boot-timeout is left", async () => {
    const { result, logger } = await boot("late", "1 2", 50_000);
    expect(result.ok).toBe(false);
    expect(await runs("late")).toBe(1);
    expect(logger.lines.join("\n")).not.toMatch(/booting once more/);
  }, 60_000);
});
