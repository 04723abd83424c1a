import { execFile } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { chmod, chown, copyFile, link, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Tools the special-files rootfs needs: use with `missingTools(...SPECIAL_ROOTFS_TOOLS)`. */
export const SPECIAL_ROOTFS_TOOLS = ["/bin/busybox", "setcap", "getcap"] as const;

/** What `buildSpecialRootfs` put where, for assertions. */
export const SPECIAL = {
  busybox: "usr/bin/busybox",
  suid: "usr/bin/suid-tool",
  sgid: "usr/bin/sgid-tool",
  capability: "usr/bin/cap-tool",
  capabilityText: "cap_net_raw=ep",
  hardlinks: ["usr/bin/linked-a", "usr/sbin/linked-b"],
  symlink: { path: "usr/bin/sh", target: "busybox" },
  numericOwner: { path: "srv/owned-by-1234", uid: 1234, gid: 5678 },
  /** Non-ASCII UTF-8, a space and a newline: names travel NUL-separated and byte for byte. */
  oddName: "srv/café au lait\nnewline",
} as const;

/**
 * A small rootfs holding what image tools tend to lose: a SUID and an SGID binary, a file with a
 * capability (setcap), a hardlink pair, a symlink, a merged-/usr `bin` link and a file owned by
 * numeric ids no passwd knows. busybox-static makes it runnable; a one-package dpkg database
 * (listing paths through the `bin` link, as Debian's lists do) names its architecture.
 */
export async function buildSpecialRootfs(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  for (const dir of ["usr/bin", "usr/sbin", "etc", "srv", "tmp", "var/lib/dpkg/info"]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  await chmod(join(root, "tmp"), 0o1777);
  await symlink("usr/bin", join(root, "bin"));
  await copyFile("/bin/busybox", join(root, SPECIAL.busybox));
  await chmod(join(root, SPECIAL.busybox), 0o755);
  await symlink(SPECIAL.symlink.target, join(root, SPECIAL.symlink.path));
  for (const [path, mode] of [
    [SPECIAL.suid, 0o4755],
    [SPECIAL.sgid, 0o2755],
    [SPECIAL.capability, 0o755],
  ] as const) {
    await copyFile("/bin/busybox", join(root, path));
    await chmod(join(root, path), mode);
  }
  await run("setcap", [SPECIAL.capabilityText, join(root, SPECIAL.capability)]);
  await writeFile(join(root, SPECIAL.hardlinks[0]), "one inode, two names\n");
  await link(join(root, SPECIAL.hardlinks[0]), join(root, SPECIAL.hardlinks[1]));
  await writeFile(join(root, SPECIAL.numericOwner.path), "owned by ids no passwd names\n");
  await chown(join(root, SPECIAL.numericOwner.path), SPECIAL.numericOwner.uid, SPECIAL.numericOwner.gid);
  await writeFile(join(root, SPECIAL.oddName), "odd name\n");
  await writeFile(join(root, "etc/os-release"), 'ID=frostyard-test\nNAME="rootfs-oci test"\n');
  await writeFile(
    join(root, "var/lib/dpkg/status"),
    "Package: busybox-static\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.35.0-4\n\n",
  );
  await writeFile(
    join(root, "var/lib/dpkg/info/busybox-static.list"),
    ["/.", "/bin", "/bin/busybox", "/usr/bin/sh"].join("\n") + "\n",
  );
}

/** One synthetic Debian package: its name, version and files (path → size). */
export interface SyntheticPackage {
  name: string;
  version: string;
  files: { path: string; size: number }[];
}

/** A deterministic pseudo-random number stream (mulberry32), so fixtures are the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Packages shaped like a small Debian system: sizes spread over four orders of magnitude (a few large
 * ones like a kernel or firmware, many small libraries), each with a binary or library, docs and a
 * copyright file. About `totalBytes` in all.
 */
export function syntheticPackages(count: number, totalBytes: number, seed = 1): SyntheticPackage[] {
  const next = random(seed);
  const weights = Array.from({ length: count }, () => Math.exp(next() * 9)); // e^0 … e^9: ~8000× spread
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((weight, i) => {
    const name = `pkg${String(i).padStart(3, "0")}-${["lib", "bin", "data", "tools"][i % 4]}`;
    const size = Math.max(2048, Math.round((weight / sum) * totalBytes));
    const parts = 1 + Math.floor(next() * 4);
    const files = [
      { path: `usr/share/doc/${name}/copyright`, size: 1024 },
      { path: `usr/share/doc/${name}/changelog.Debian.gz`, size: 512 },
      ...Array.from({ length: parts }, (_, k) => ({
        path: i % 4 === 1 && k === 0 ? `usr/bin/${name}` : `usr/lib/x86_64-linux-gnu/${name}/part${k}.so`,
        size: Math.round(size / parts),
      })),
    ];
    return { name, version: "1.0-1", files };
  });
}

/** Content that does not compress (AES-CTR keystream keyed by package, version and path). */
function fileContent(pkg: SyntheticPackage, path: string, size: number): Buffer {
  const key = createHash("sha256").update(`${pkg.name}\0${pkg.version}\0${path}`).digest();
  return createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

function directoriesOf(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [...dirs].sort();
}

function statusStanza(pkg: SyntheticPackage): string {
  const kib = Math.ceil(pkg.files.reduce((s, f) => s + f.size, 0) / 1024);
  return [
    `Package: ${pkg.name}`,
    "Status: install ok installed",
    "Priority: optional",
    "Architecture: amd64",
    `Version: ${pkg.version}`,
    `Installed-Size: ${kib}`,
    `Description: synthetic package ${pkg.name}`,
    "",
  ].join("\n");
}

async function writePackageFiles(root: string, pkg: SyntheticPackage): Promise<void> {
  for (const file of pkg.files) {
    await mkdir(dirname(join(root, file.path)), { recursive: true });
    await writeFile(join(root, file.path), fileContent(pkg, file.path, file.size));
  }
  const listed = [
    "/.",
    ...directoriesOf(pkg.files.map((f) => f.path)).map((d) => `/${d}`),
    ...pkg.files.map((f) => `/${f.path}`),
  ];
  await writeFile(join(root, `var/lib/dpkg/info/${pkg.name}.list`), listed.join("\n") + "\n");
  const sums = pkg.files.map(
    (f) =>
      `${createHash("md5")
        .update(f.path + pkg.version)
        .digest("hex")}  ${f.path}`,
  );
  await writeFile(join(root, `var/lib/dpkg/info/${pkg.name}.md5sums`), sums.join("\n") + "\n");
}

async function writeStatus(root: string, packages: readonly SyntheticPackage[]): Promise<void> {
  await writeFile(join(root, "var/lib/dpkg/status"), packages.map(statusStanza).join("\n"));
}

/**
 * A dpkg-shaped rootfs: every package's files, its `.list` (directories included, as dpkg writes them)
 * and `.md5sums`, a status file, and a few files no package owns (/etc/hostname, a machine-id).
 */
export async function buildDpkgRootfs(root: string, packages: readonly SyntheticPackage[]): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, "var/lib/dpkg/info"), { recursive: true });
  await mkdir(join(root, "etc"), { recursive: true });
  for (const pkg of packages) await writePackageFiles(root, pkg);
  await writeStatus(root, packages);
  await writeFile(join(root, "etc/hostname"), "frostyard\n");
  await writeFile(join(root, "etc/machine-id"), "");
}

/**
 * Upgrades one package in place as dpkg would: new content for each of its files, new `.list` and
 * `.md5sums`, the new version in the status file. Returns the updated package list.
 */
export async function upgradePackage(
  root: string,
  packages: readonly SyntheticPackage[],
  name: string,
  version: string,
): Promise<SyntheticPackage[]> {
  const updated = packages.map((p) => (p.name === name ? { ...p, version } : p));
  const pkg = updated.find((p) => p.name === name);
  if (!pkg) throw new Error(`upgradePackage: no package ${name}`);
  await writePackageFiles(root, pkg);
  await writeStatus(root, updated);
  return updated;
}

/**
 * Upgrades an installed package of a real Debian tree the way a new version would touch it: every
 * regular file it lists gets new content (the old bytes plus a version marker), its `.md5sums` is
 * rewritten and the status file names the new version. `resolve` maps a listed path to where it is
 * stored (through merged-/usr links). Returns the bytes of content rewritten.
 */
export async function upgradeInstalledPackage(
  root: string,
  name: string,
  version: string,
  listed: readonly string[],
  resolve: (path: string) => string,
): Promise<number> {
  const { lstat, readFile: read } = await import("node:fs/promises");
  let bytes = 0;
  const sums: string[] = [];
  for (const path of listed) {
    const stored = join(root, resolve(path));
    const info = await lstat(stored).catch(() => undefined);
    if (!info?.isFile()) continue;
    const content = Buffer.concat([await read(stored), Buffer.from(`\n# ${name} ${version}\n`)]);
    await writeFile(stored, content);
    bytes += content.length;
    sums.push(`${createHash("md5").update(content).digest("hex")}  ${path}`);
  }
  await writeFile(join(root, `var/lib/dpkg/info/${name}.md5sums`), sums.join("\n") + "\n");
  const statusPath = join(root, "var/lib/dpkg/status");
  const stanzas = (await read(statusPath, "utf8")).split("\n\n");
  const updated = stanzas.map((stanza) =>
    new RegExp(`^Package: ${name.replace(/:.*$/, "").replace(/[.+]/g, "\\$&")}$`, "m").test(stanza)
      ? stanza.replace(/^Version: .*$/m, `Version: ${version}`)
      : stanza,
  );
  await writeFile(statusPath, updated.join("\n\n"));
  return bytes;
}
