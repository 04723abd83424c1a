import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BUSYBOX } from "./images";

/**
 * Real root filesystems for lint tests, built from busybox-static in a temp directory: one shaped the way
 * bootc wants a bootable root (passing every native rule), one shaped as a system extension, and for
 * each rule a change that breaks exactly that rule.
 */

async function put(root: string, path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content, { mode });
}

async function link(root: string, path: string, target: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await symlink(target, join(root, path));
}

export const KERNEL_VERSION = "6.12.0-frostyard";
export const OS_RELEASE = 'ID=frostyard\nVERSION_ID=1\nSYSEXT_LEVEL=1.0\nPRETTY_NAME="Frostyard test"\n';

/** Fills `root` with a bootable-shaped busybox system that passes every native bootc rule. */
export async function writeBootcRootfs(root: string): Promise<void> {
  await mkdir(join(root, "usr/bin"), { recursive: true });
  await copyFile(BUSYBOX, join(root, "usr/bin/busybox"));
  await chmod(join(root, "usr/bin/busybox"), 0o755);
  await link(root, "usr/bin/sh", "busybox");
  await link(root, "bin", "usr/bin");
  for (const dir of [
    "dev",
    "proc",
    "sys",
    "run",
    "tmp",
    "var/log",
    "boot",
    "sysroot",
    "usr/lib/sysusers.d",
  ]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  await link(root, "ostree", "sysroot/ostree");
  await link(root, "var/run", "../run");
  await link(root, "var/log/README", "../../usr/share/doc/README.logs");
  await put(root, "var/log/empty.log", "");
  await put(root, "usr/lib/ostree/prepare-root.conf", "[composefs]\nenabled = yes\n");
  await put(root, `usr/lib/modules/${KERNEL_VERSION}/vmlinuz`, "not really a kernel\n");
  await put(
    root,
    "usr/lib/bootc/kargs.d/10-console.toml",
    '# serial console\nkargs = ["console=ttyS0,115200n8"]\nmatch-architectures = ["x86_64", "aarch64"]\n',
  );
  await put(root, "usr/lib/os-release", OS_RELEASE);
  await link(root, "etc/os-release", "../usr/lib/os-release");
  await put(root, "etc/hostname", "frostyard\n");
  await put(root, "etc/passwd", "root:x:0:0:Super User:/root:/bin/sh\n");
  await put(root, "etc/group", "root:x:0:\nwheel:x:10:\n");
  await put(
    root,
    "usr/lib/sysusers.d/basic.conf",
    '# Users\nu root 0 "Super User" /root /bin/sh\ng wheel 10\n',
  );
}

/** Each native bootc rule and a change to the passing root that breaks it, and only it. */
export const BOOTC_BREAKERS: Record<string, (root: string) => Promise<void>> = {
  "api-base-directories": (root) => rm(join(root, "proc"), { recursive: true }),
  "baseimage-composefs": (root) =>
    put(root, "usr/lib/ostree/prepare-root.conf", "[composefs]\nenabled = no\n"),
  "baseimage-root": (root) => rm(join(root, "ostree")),
  "bootc-kargs": (root) => put(root, "usr/lib/bootc/kargs.d/20-bad.toml", 'kargs = "quiet"\n'),
  "buildah-injected": (root) => put(root, "etc/resolv.conf", ""),
  "etc-usretc": (root) => mkdir(join(root, "usr/etc")),
  kernel: (root) => put(root, "usr/lib/modules/6.13.0/vmlinuz", "a second kernel\n"),
  "nonempty-boot": (root) => put(root, "boot/vmlinuz-6.12.0", "kernel in /boot\n"),
  "nonempty-run-tmp": (root) => put(root, "tmp/build-leftover", "x\n"),
  sysusers: async (root) => {
    await put(root, "etc/passwd", "root:x:0:0:Super User:/root:/bin/sh\navahi:x:70:70::/:/sbin/nologin\n");
  },
  utf8: (root) =>
    writeFile(
      Buffer.concat([Buffer.from(join(root, "usr/lib/bad")), Buffer.from([0xff]), Buffer.from("name")]),
      "x",
    ),
  "var-log": (root) => put(root, "var/log/build.log", "log line\n"),
  "var-run": async (root) => {
    await rm(join(root, "var/run"));
    await mkdir(join(root, "var/run"));
  },
};

export const SYSEXT_NAME = "tools";

/** Fills `root` with a system extension that passes every sysext rule against OS_RELEASE as base. */
export async function writeSysextRootfs(root: string): Promise<void> {
  await mkdir(join(root, "usr/bin"), { recursive: true });
  await copyFile(BUSYBOX, join(root, "usr/bin/tool"));
  await chmod(join(root, "usr/bin/tool"), 0o755);
  await put(root, "opt/tools/README", "tools\n");
  await put(
    root,
    "usr/share/tools/cert.pem",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  );
  await put(
    root,
    `usr/lib/extension-release.d/extension-release.${SYSEXT_NAME}`,
    "ID=frostyard\nSYSEXT_LEVEL=1.0\n",
  );
}

/** Each sysext rule and a change that breaks it, and only it (given the required path /usr/bin/tool, except for sysext-nonempty). */
export const SYSEXT_BREAKERS: Record<string, (root: string) => Promise<void>> = {
  "sysext-layout": (root) => put(root, "etc/tools.conf", "verbose=1\n"),
  "sysext-release": (root) =>
    put(
      root,
      `usr/lib/extension-release.d/extension-release.${SYSEXT_NAME}`,
      "ID=frostyard\nSYSEXT_LEVEL=2.0\n",
    ),
  "sysext-secrets": async (root) => {
    await put(root, "usr/share/tools/ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0o600);
    await put(
      root,
      "usr/share/tools/server.pem",
      "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
    );
  },
  "sysext-required-paths": (root) => rm(join(root, "usr/bin/tool")),
  "sysext-nonempty": async (root) => {
    await rm(join(root, "usr/bin"), { recursive: true });
    await rm(join(root, "usr/share"), { recursive: true });
    await rm(join(root, "opt"), { recursive: true });
  },
};

/** A temp directory with `write` applied; remove it with the returned cleanup. */
export async function tempRootfs(
  write: (root: string) => Promise<void>,
): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), "frostyard-rootfs-"));
  const root = join(parent, "root");
  await mkdir(root);
  await write(root);
  return { root, cleanup: () => rm(parent, { recursive: true, force: true }) };
}
