import { execStreaming, type Logger } from "@frostyard/kit";
import { withSudo } from "./sudo";

/**
 * mkosi's cache directory holds whole root filesystems (incremental images): root-owned files, SUID bits,
 * file capabilities, unreadable /etc/shadow. The cache services' own tar runs unprivileged and would lose
 * or fail on them, so the action packs the directory itself, as root when mkosi ran as root, into one file
 * that the cache then stores as plain bytes.
 */
export function packArgv(directory: string, archive: string, compressor: "zstd" | "gzip"): string[] {
  return [
    "--create",
    `--file=${archive}`,
    `--directory=${directory}`,
    "--numeric-owner",
    "--xattrs",
    "--xattrs-include=*",
    "--acls",
    "--sparse",
    compressor === "zstd" ? "--use-compress-program=zstd -T0 -3" : "--gzip",
    ".",
  ];
}

export function unpackArgv(directory: string, archive: string, compressor: "zstd" | "gzip"): string[] {
  return [
    "--extract",
    `--file=${archive}`,
    `--directory=${directory}`,
    "--numeric-owner",
    "--same-owner",
    "--same-permissions",
    "--xattrs",
    "--xattrs-include=*",
    "--acls",
    compressor === "zstd" ? "--use-compress-program=zstd -d -T0" : "--gzip",
  ];
}

export function compressorOf(archive: string): "zstd" | "gzip" {
  if (archive.endsWith(".tar.zst")) return "zstd";
  if (archive.endsWith(".tar.gz")) return "gzip";
  throw new Error(`cache archive ${archive}: expected a .tar.zst or .tar.gz name`);
}

export interface ArchiveOptions {
  sudo: boolean;
  logger: Logger;
}

export async function packDirectory(
  directory: string,
  archive: string,
  options: ArchiveOptions,
): Promise<void> {
  const { command, args } = withSudo(
    "tar",
    packArgv(directory, archive, compressorOf(archive)),
    options.sudo,
    [],
  );
  await execStreaming(command, args, { logger: options.logger });
  if (options.sudo) {
    // The archive is the cache service's to read: hand it to us, not root.
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const chown = withSudo("chown", [`${uid}:${gid}`, archive], true, []);
    await execStreaming(chown.command, chown.args, { logger: options.logger });
  }
}

export async function unpackDirectory(
  archive: string,
  directory: string,
  options: ArchiveOptions,
): Promise<void> {
  const mkdir = withSudo("mkdir", ["-p", directory], options.sudo, []);
  await execStreaming(mkdir.command, mkdir.args, { logger: options.logger });
  const { command, args } = withSudo(
    "tar",
    unpackArgv(directory, archive, compressorOf(archive)),
    options.sudo,
    [],
  );
  await execStreaming(command, args, { logger: options.logger });
}
