import { InputError } from "@frostyard/kit";

/** A variable handed to mkosi's scripts: its value travels in the process environment, never in argv. */
export interface BuildVariable {
  name: string;
  value: string;
  /** Masked in logs (it came from `secret-environment`). */
  secret: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names the action or the host owns: overriding them would break mkosi itself or the sudo hand-over, so
 * they are refused rather than silently shadowed.
 */
const RESERVED = new Set(["PATH", "HOME", "USER", "SUDO_USER", "TMPDIR", "SOURCE_DATE_EPOCH", "LD_PRELOAD"]);

/**
 * Merges `environment` and `secret-environment` (already parsed KEY=VALUE maps) into one list. A name may
 * appear in only one of them, must be a shell variable name and must not be one the action sets itself.
 */
export function buildVariables(
  plain: ReadonlyMap<string, string>,
  secret: ReadonlyMap<string, string>,
): BuildVariable[] {
  const variables: BuildVariable[] = [];
  for (const [input, map, isSecret] of [
    ["environment", plain, false],
    ["secret-environment", secret, true],
  ] as const) {
    for (const [name, value] of map) {
      if (!NAME.test(name)) {
        throw new InputError(
          input,
          `'${name.slice(0, 40)}' is not a variable name`,
          "names of letters, digits and '_', not starting with a digit",
        );
      }
      if (RESERVED.has(name)) {
        throw new InputError(
          input,
          `'${name}' is set by the action itself`,
          `any name but ${[...RESERVED].join(", ")}`,
        );
      }
      if (isSecret && plain.has(name)) {
        throw new InputError(
          input,
          `'${name}' is also set in 'environment'`,
          "each name in one of environment and secret-environment",
        );
      }
      variables.push({ name, value, secret: isSecret });
    }
  }
  return variables;
}
