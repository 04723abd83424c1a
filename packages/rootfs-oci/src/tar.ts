/**
 * GNU tar's argv for one layer: a pax archive of exactly the listed paths (NUL-separated, taken
 * verbatim, no recursion) with numeric owners, every xattr (security.capability included), mtimes
 * clamped to SOURCE_DATE_EPOCH and pax headers free of pids, atimes and ctimes, so the same tree
 * gives the same bytes.
 */
export function tarArgs(options: {
  rootfs: string;
  listFile: string;
  output: string;
  sourceDateEpoch: number;
}): string[] {
  return [
    "--create",
    `--file=${options.output}`,
    `--directory=${options.rootfs}`,
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "--numeric-owner",
    "--xattrs",
    "--xattrs-include=*",
    "--sort=name",
    `--mtime=@${options.sourceDateEpoch}`,
    "--clamp-mtime",
    "--no-recursion",
    "--null",
    "--verbatim-files-from",
    `--files-from=${options.listFile}`,
  ];
}

/** The list file tar reads with `--null --files-from`: NUL-terminated names, any byte allowed but NUL. */
export function tarFileList(paths: readonly string[]): Buffer {
  return Buffer.from(paths.map((p) => `${p}\0`).join(""));
}
