import {
  getBoolean,
  getEnum,
  getHostList,
  getInteger,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import { DEFAULT_BRANCH, DEFAULT_PATHS, type Include, type Mode } from "@frostyard/pin-digest";
import { parseRegistryLogin, type RegistryLogin } from "../registry-login";

export const MODES = ["pin", "check", "update"] as const;
export const INCLUDES = ["images", "actions", "all"] as const;

/** Every input of actions/pin-digest, parsed once. */
export interface PinDigestInputs extends RegistryLogin {
  paths: string[];
  mode: Mode;
  include: Include;
  createPr: boolean;
  token?: string;
  branch: string;
  insecureRegistries: string[];
  concurrency: number;
}

export function parseInputs(get: InputGetter): PinDigestInputs {
  const paths = getList(get, "paths");
  const login = parseRegistryLogin(get);
  const branch = getOptionalString(get, "branch") ?? DEFAULT_BRANCH;
  if (!/^[\w./-]+$/.test(branch) || branch.startsWith("-") || branch.includes("..")) {
    throw new InputError(
      "branch",
      `got '${branch}'`,
      "a git branch name of letters, digits, '.', '_', '-' and '/'",
    );
  }
  return {
    paths: paths.length > 0 ? paths : [...DEFAULT_PATHS],
    mode: getEnum(get, "mode", MODES, "pin"),
    include: getEnum(get, "include", INCLUDES, "all"),
    createPr: getBoolean(get, "create-pr", false),
    token: getOptionalString(get, "token"),
    branch,
    ...login,
    insecureRegistries: getHostList(get, "insecure-registries"),
    concurrency: getInteger(get, "concurrency", { min: 1, max: 64, default: 16 }),
  };
}
