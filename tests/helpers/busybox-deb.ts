import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { toolboxCacheDir } from "./toolbox";

const run = promisify(execFile);

export type DebArchitecture = "amd64" | "arm64";

/** The machine's own Debian mirror and suite (the first entry of its sources): never a hard-coded host. */
export function hostDebianSource(sources = readFileSync("/etc/apt/sources.list.d/debian.sources", "utf8")): {
  mirror: string;
  suite: string;
} {
  const mirror = /^URIs:\s*(\S+)/m.exec(sources)?.[1];
  const suite = /^Suites:\s*(\S+)/m.exec(sources)?.[1];
  if (!mirror || !suite) throw new Error("debian.sources names no URIs: or Suites: line");
  return { mirror, suite };
}

/**
 * Debian's busybox-static .deb for `arch`, downloaded once into `<cache>/busybox-static/<arch>/` and reused.
 * apt runs with a private sources list, lists directory and architecture (options only): the machine's
 * apt configuration, dpkg architectures and package lists are left as they are.
 */
export async function busyboxStaticDeb(arch: DebArchitecture): Promise<string> {
  const dir = join(toolboxCacheDir(), "busybox-static", arch);
  const cached = existsSync(dir) ? (await readdir(dir)).find((name) => name.endsWith(".deb")) : undefined;
  if (cached) return join(dir, cached);
  await mkdir(join(toolboxCacheDir(), "busybox-static"), { recursive: true });
  const work = await mkdtemp(join(toolboxCacheDir(), "busybox-static", `.${arch}-`));
  try {
    const { mirror, suite } = hostDebianSource();
    await mkdir(join(work, "lists/partial"), { recursive: true });
    await mkdir(join(work, "cache/archives/partial"), { recursive: true });
    await mkdir(join(work, "deb"));
    const sources = join(work, "sources.list");
    await writeFile(
      sources,
      `deb [arch=${arch} signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite} main\n`,
    );
    const options = [
      "-q",
      "-o",
      `Dir::Etc::SourceList=${sources}`,
      "-o",
      "Dir::Etc::SourceParts=/nonexistent",
      "-o",
      `Dir::State::Lists=${join(work, "lists")}`,
      "-o",
      `Dir::Cache=${join(work, "cache")}`,
      "-o",
      "Dir::State::status=/dev/null",
      "-o",
      `APT::Architecture=${arch}`,
      "-o",
      `APT::Architectures::=${arch}`,
      "-o",
      "APT::Sandbox::User=root",
    ];
    await run("apt-get", [...options, "update"], { timeout: 300_000 });
    await run("apt-get", [...options, "download", `busybox-static:${arch}`], {
      cwd: join(work, "deb"),
      timeout: 300_000,
    });
    const [deb] = (await readdir(join(work, "deb"))).filter((name) => name.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download busybox-static:${arch} left no .deb`);
    await rename(join(work, "deb"), dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another test fetched it first: theirs is as good.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
    return join(dir, deb);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The .deb's files unpacked into `dest` (dpkg-deb -x; no maintainer scripts, nothing executed), its
 * /bin/busybox moved to /usr/bin as a merged-/usr system has it.
 */
export async function unpackBusybox(deb: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await run("dpkg-deb", ["-x", deb, dest]);
  await mkdir(join(dest, "usr/bin"), { recursive: true });
  await rename(join(dest, "bin/busybox"), join(dest, "usr/bin/busybox"));
  await rmdir(join(dest, "bin"));
}

/** The ELF e_machine of a file's header: 62 is x86-64, 183 is AArch64. */
export function elfMachine(header: Buffer): number {
  if (header.subarray(0, 4).toString("latin1") !== "\x7fELF") throw new Error("not an ELF file");
  return header.readUInt16LE(18);
}
