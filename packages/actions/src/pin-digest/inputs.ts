import {
  getBoolean,
  getEnum,
  getInteger,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import { DEFAULT_BRANCH, DEFAULT_PATHS, type Include, type Mode } from "@frostyard/pin-digest";

export const MODES = ["pin", "check", "update"] as const;
export const INCLUDES = ["images", "actions", "all"] as const;

/** Every input of actions/pin-digest, parsed once. */
export interface PinDigestInputs {
  paths: string[];
  mode: Mode;
  include: Include;
  createPr: boolean;
  token?: string;
  branch: string;
  registry?: string;
  registryUsername?: string;
  registryPassword?: string;
  insecureRegistries: string[];
  concurrency: number;
}

export function parseInputs(get: InputGetter): PinDigestInputs {
  const paths = getList(get, "paths");
  const registry = getOptionalString(get, "registry");
  const registryUsername = getOptionalString(get, "registry-username");
  const registryPassword = getOptionalString(get, "registry-password");
  if ((registryUsername === undefined) !== (registryPassword === undefined)) {
    const missing = registryUsername === undefined ? "registry-username" : "registry-password";
    throw new InputError(
      missing,
      "is empty while its partner is set",
      "registry-username and registry-password together",
    );
  }
  if (registryUsername !== undefined && registry === undefined) {
    throw new InputError(
      "registry",
      "is empty while registry-username is set; credentials are sent only to the registry they are for",
      "a registry host such as ghcr.io or registry.example.com:5000",
    );
  }
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
    registry,
    registryUsername,
    registryPassword,
    insecureRegistries: getList(get, "insecure-registries"),
    concurrency: getInteger(get, "concurrency", { min: 1, max: 64, default: 16 }),
  };
}
