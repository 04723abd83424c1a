import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import { filesToRead } from "./checks";
import { parseMtree, type MtreeEntry } from "./mtree";

/** How to run systemd-dissect: the program and any prefix (e.g. `sudo -n`), so tests and hosts choose. */
export interface DissectCommand {
  command: string;
  /** Arguments before systemd-dissect's own (e.g. ["-n", "systemd-dissect"] with command "sudo"). */
  prefix: string[];
}

export const DEFAULT_DISSECT: DissectCommand = { command: "systemd-dissect", prefix: [] };

export interface ImageContents {
  entries: MtreeEntry[];
  /** The bytes of `filesToRead(entries, name)`, by path relative to the image root. */
  files: Map<string, Buffer>;
}

/**
 * Reads a built extension as systemd sees it: `systemd-dissect --mtree` lists it (types, sizes, sha256),
 * `--copy-from` takes its tree out read-only for the few small files whose bytes the checks need. Nothing
 * is read from the build tree.
 */
export async function readSysextImage(
  raw: string,
  name: string,
  options: { dissect?: DissectCommand; logger: Logger; scratch?: string },
): Promise<ImageContents> {
  const dissect = options.dissect ?? DEFAULT_DISSECT;
  const run = (args: string[], captureStdout: boolean) =>
    execStreaming(dissect.command, [...dissect.prefix, ...args], {
      logger: options.logger,
      captureStdout,
      echoCommand: false,
      onStderrLine: (line) => options.logger.debug(line),
    });
  const listing = await run(["--mtree", raw], true);
  const entries = parseMtree(listing.stdout);
  const files = new Map<string, Buffer>();
  const wanted = filesToRead(entries, name);
  if (wanted.length === 0) return { entries, files };
  const scratch = await mkdtemp(join(options.scratch ?? tmpdir(), "sysext-read-"));
  try {
    const tree = join(scratch, "tree");
    await run(["--copy-from", raw, "/", tree], false);
    for (const path of wanted) files.set(path, await readFile(join(tree, path)));
  } finally {
    // Under sudo the copied tree is root's: only root can remove it.
    if (dissect.command === "sudo")
      await execStreaming("sudo", ["-n", "rm", "-rf", "--", scratch], {
        logger: options.logger,
        echoCommand: false,
      });
    else await rm(scratch, { recursive: true, force: true });
  }
  return { entries, files };
}
