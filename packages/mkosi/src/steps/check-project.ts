import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InputError } from "@frostyard/kit";
import { checkProfiles, findProjectProfiles } from "../profiles";
import type { MkosiBuildOptions } from "./context";

/** The project directory, resolved and checked: it exists, holds mkosi.conf(.d) and knows the profiles. */
export async function checkProject(
  options: Pick<MkosiBuildOptions, "directory" | "workspace" | "profiles">,
): Promise<string> {
  const directory = resolve(options.workspace ?? process.cwd(), options.directory);
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(
      "directory",
      `'${options.directory}' (${directory}) is not a directory`,
      "the path of an mkosi project, relative to the workspace",
    );
  }
  if (!existsSync(join(directory, "mkosi.conf")) && !existsSync(join(directory, "mkosi.conf.d"))) {
    throw new InputError(
      "directory",
      `'${options.directory}' has no mkosi.conf or mkosi.conf.d`,
      "the directory holding the project's mkosi.conf",
    );
  }
  checkProfiles(options.profiles, await findProjectProfiles(directory));
  return directory;
}
