import { afterAll, describe, expect, test } from "vitest";
import { BOOTC_LINTS, parseOsRelease, runNativeChecks, SYSEXT_LINTS } from "@frostyard/lint-bootc";
import { BUSYBOX } from "../helpers/images";
import {
  BOOTC_BREAKERS,
  OS_RELEASE,
  SYSEXT_BREAKERS,
  SYSEXT_NAME,
  tempRootfs,
  writeBootcRootfs,
  writeSysextRootfs,
} from "../helpers/rootfs";
import { missingTools } from "../helpers/tools";

/**
 * Native checks on real root filesystems built here from busybox-static: a bootable-shaped root passes
 * every rule, and each rule has a root that breaks exactly it. The same for the sysext rules.
 */

const skip = missingTools(BUSYBOX);
const cleanups: (() => Promise<void>)[] = [];
afterAll(() => Promise.all(cleanups.map((c) => c())));

async function rootWith(base: (root: string) => Promise<void>, breaker?: (root: string) => Promise<void>) {
  const { root, cleanup } = await tempRootfs(async (r) => {
    await base(r);
    await breaker?.(r);
  });
  cleanups.push(cleanup);
  return root;
}

const failed = (report: Awaited<ReturnType<typeof runNativeChecks>>) =>
  [...report.failures, ...report.warnings].map((f) => f.lint).sort();

describe.skipIf(skip)("native bootc rules on real root filesystems", () => {
  test("the bootable-shaped root passes every rule; only bootc can check the rest", async () => {
    const report = await runNativeChecks(await rootWith(writeBootcRootfs));
    expect(failed(report)).toEqual([]);
    expect(report.passed.sort()).toEqual(Object.keys(BOOTC_BREAKERS).sort());
    expect(report.skipped).toEqual([
      { lint: "etc-uid-drift", reason: "only bootc inside the image can check it" },
      { lint: "var-tmpfiles", reason: "only bootc inside the image can check it" },
    ]);
  });

  test.each(Object.keys(BOOTC_BREAKERS))("%s: a root breaking it fails it and nothing else", async (lint) => {
    const report = await runNativeChecks(await rootWith(writeBootcRootfs, BOOTC_BREAKERS[lint]));
    expect(failed(report)).toEqual([lint]);
    const severity = BOOTC_LINTS.find((r) => r.name === lint)?.severity;
    expect((severity === "fatal" ? report.failures : report.warnings).map((f) => f.lint)).toEqual([lint]);
    expect(report.failures.concat(report.warnings)[0]?.source).toBe("native");
  });

  test.each([
    ["var-run", "Not a symlink: var/run"],
    [
      "etc-usretc",
      "Found /usr/etc - this is a bootc implementation detail and not supported to use in containers",
    ],
    ["api-base-directories", "Missing API filesystem base directory: /proc"],
    ["baseimage-root", "Missing ostree -> sysroot/ostree link"],
    ["baseimage-composefs", "usr/lib/ostree/prepare-root.conf does not have composefs enabled"],
    [
      "buildah-injected",
      "/etc/resolv.conf is an empty file; this may have been synthesized by a container runtime.",
    ],
    ["kernel", "Multiple kernels found in /usr/lib/modules:\n  6.12.0-frostyard\n  6.13.0"],
    ["nonempty-boot", "Found non-empty /boot:\n  vmlinuz-6.12.0"],
    ["nonempty-run-tmp", "Found content in runtime-only directories (/run, /tmp):\n  /tmp/build-leftover"],
    ["sysusers", "Found /etc/passwd entry without corresponding systemd sysusers.d:\n  avahi"],
    ["utf8", '/usr/lib: Found non-utf8 filename "bad\\xFFname"'],
    ["var-log", "Found non-empty logfiles:\n  /var/log/build.log"],
    [
      "bootc-kargs",
      "Failed to parse kargs.d files:\n  /usr/lib/bootc/kargs.d/20-bad.toml: line 1: kargs must be an array of strings",
    ],
  ])("%s: the message reads as bootc's", async (lint, message) => {
    const report = await runNativeChecks(await rootWith(writeBootcRootfs, BOOTC_BREAKERS[lint]));
    expect(report.failures.concat(report.warnings).map((f) => f.message)).toEqual([message]);
  });

  test("skip leaves a rule out, under bootc's name", async () => {
    const report = await runNativeChecks(await rootWith(writeBootcRootfs, BOOTC_BREAKERS.kernel), {
      skip: ["kernel"],
    });
    expect(failed(report)).toEqual([]);
    expect(report.skipped).toContainEqual({ lint: "kernel", reason: "skipped on request" });
  });

  test("a missing root is an InputError naming the input", async () => {
    await expect(runNativeChecks("/nonexistent/frostyard-root")).rejects.toThrow(
      "input 'rootfs': '/nonexistent/frostyard-root' cannot be used (ENOENT); expected a directory holding a root filesystem",
    );
  });
});

describe.skipIf(skip)("sysext rules on real extension trees", () => {
  const options = { name: SYSEXT_NAME, base: parseOsRelease(OS_RELEASE), requiredPaths: ["/usr/bin/tool"] };

  test("the extension passes every sysext rule", async () => {
    const report = await runNativeChecks(await rootWith(writeSysextRootfs), { sysext: options });
    expect(failed(report)).toEqual([]);
    expect(report.passed.sort()).toEqual(SYSEXT_LINTS.map((r) => r.name).sort());
  });

  test.each(Object.keys(SYSEXT_BREAKERS))(
    "%s: an extension breaking it fails it and nothing else",
    async (lint) => {
      const sysext = lint === "sysext-nonempty" ? { ...options, requiredPaths: [] } : options;
      const report = await runNativeChecks(await rootWith(writeSysextRootfs, SYSEXT_BREAKERS[lint]), {
        sysext,
      });
      expect(failed(report)).toEqual([lint]);
    },
  );

  test.each([
    ["sysext-layout", "Found top-level entries outside /usr and /opt:\n  /etc"],
    [
      "sysext-release",
      "/usr/lib/extension-release.d/extension-release.tools: extension-release SYSEXT_LEVEL=2.0 does not match the base's SYSEXT_LEVEL=1.0",
    ],
    [
      "sysext-secrets",
      "Found secrets that must not ship in an extension:\n  /usr/share/tools/server.pem\n  /usr/share/tools/ssh_host_ed25519_key",
    ],
    ["sysext-required-paths", "Missing required paths:\n  /usr/bin/tool"],
  ])("%s: the message names what is wrong", async (lint, message) => {
    const report = await runNativeChecks(await rootWith(writeSysextRootfs, SYSEXT_BREAKERS[lint]), {
      sysext: options,
    });
    expect(report.failures.map((f) => f.message)).toEqual([message]);
  });
});
