import type { Logger } from "./log";

/**
 * The pieces of each secret a log line could carry: the whole value and, for multi-line values (PEM keys,
 * JSON credentials), every line on its own, because logs and the runner's masker work line by line.
 */
export function secretFragments(values: Iterable<string | null | undefined>): string[] {
  const fragments = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    fragments.add(value);
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r?\n|\r/)) {
        const trimmed = line.trim();
        if (trimmed !== "") fragments.add(trimmed);
      }
    }
  }
  return [...fragments];
}

/** Registers every secret with the logger (the runner masks them) before anything can print them. */
export function maskSecrets(logger: Logger, values: Iterable<string | null | undefined>): void {
  for (const fragment of secretFragments(values)) logger.setSecret(fragment);
}

/** Replaces every occurrence of each secret (and each line of a multi-line secret) with `***`. */
export function redact(text: string, secrets: Iterable<string | null | undefined>): string {
  // Longest first, so a secret that contains another is replaced whole rather than leaving its remainder.
  const fragments = secretFragments(secrets).sort((a, b) => b.length - a.length);
  let result = text;
  for (const fragment of fragments) result = result.split(fragment).join("***");
  return result;
}
