import { readFile } from "node:fs/promises";
import { CosignKeyError } from "./errors";

/** Where a key came from, for logs: never the key itself. */
export type KeyOrigin =
  { kind: "content" } | { kind: "file"; path: string } | { kind: "env"; variable: string };

export interface KeySource {
  pem: string;
  origin: KeyOrigin;
}

const ENV_PREFIX = "env://";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ACCEPTED = "PEM key content, a path to a key file, or env://VARIABLE";

/** A short description of a key source that is safe to log. */
export function describeKeyOrigin(origin: KeyOrigin): string {
  switch (origin.kind) {
    case "content":
      return "key given inline";
    case "file":
      return `key file ${origin.path}`;
    case "env":
      return `${ENV_PREFIX}${origin.variable}`;
  }
}

/**
 * Resolves a `key` input the way `cosign sign --key` takes it: `env://VAR` reads the variable, text
 * holding a PEM block is the key itself, anything else is a file path. Errors never echo the value
 * unless it can only be a path (one short line).
 */
export async function resolveKeySource(
  value: string,
  env: Record<string, string | undefined> = process.env,
  input = "key",
): Promise<KeySource> {
  const trimmed = value.trim();
  if (trimmed === "") throw new CosignKeyError(input, "source", "the key is empty", ACCEPTED);
  if (trimmed.startsWith(ENV_PREFIX)) {
    const variable = trimmed.slice(ENV_PREFIX.length);
    if (!ENV_NAME.test(variable)) {
      throw new CosignKeyError(
        input,
        "source",
        `"${trimmed}" does not name an environment variable`,
        "env://NAME with letters, digits and underscores",
      );
    }
    const pem = env[variable];
    if (pem === undefined || pem.trim() === "") {
      throw new CosignKeyError(
        input,
        "source",
        `environment variable ${variable} (from ${trimmed}) is ${pem === undefined ? "not set" : "empty"}`,
        `${variable} holding the PEM key`,
      );
    }
    return { pem, origin: { kind: "env", variable } };
  }
  if (trimmed.includes("-----BEGIN")) return { pem: value, origin: { kind: "content" } };
  const looksLikePath = !/[\r\n]/.test(trimmed) && trimmed.length <= 4096;
  if (!looksLikePath) {
    throw new CosignKeyError(
      input,
      "source",
      `the value (${trimmed.length} characters) has no "-----BEGIN" line and is not a file path`,
      ACCEPTED,
    );
  }
  try {
    return { pem: await readFile(trimmed, "utf8"), origin: { kind: "file", path: trimmed } };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A pasted key without its PEM lines is one long base64 line: do not print it as a "path".
    const shown =
      trimmed.length <= 256 && !/^[A-Za-z0-9+/=]{200,}$/.test(trimmed)
        ? `"${trimmed}"`
        : `(${trimmed.length} characters)`;
    throw new CosignKeyError(
      input,
      "source",
      `the key is not PEM content and the file ${shown} cannot be read (${code ?? (error as Error).message})`,
      ACCEPTED,
    );
  }
}
