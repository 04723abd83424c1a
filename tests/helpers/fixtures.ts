import { fileURLToPath } from "node:url";

/** The team's reference fixtures, vendored under tests/fixtures/shared (provenance in its SOURCES.md). */
export function sharedFixture(relativePath: string): string {
  return fileURLToPath(new URL(`../fixtures/shared/${relativePath}`, import.meta.url));
}
