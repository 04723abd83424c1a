import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../helpers/run-action";

/**
 * CI runs on a clean clone on a fresh machine: nothing may depend on the team's directories beside the
 * repository (the reference fixtures are vendored under tests/fixtures/shared for that reason).
 */
const OUTSIDE_PATHS = [/\/work\/shared\b/, /\.\.\/\.\.\/\.\.\/shared\//, /\/work\/main\b/];

function trackedCode(): string[] {
  const files = execFileSync(
    "git",
    ["ls-files", "packages", "tests", "scripts", ".ci", "actions", "action.yml"],
    {
      cwd: repoRoot,
      encoding: "utf8",
    },
  );
  return files.split("\n").filter((f) => f && !f.startsWith("tests/fixtures/shared/") && !f.endsWith(".md"));
}

describe("repository hygiene", () => {
  test.each(OUTSIDE_PATHS.map((p) => [p.source, p] as const))(
    "no tracked code refers to %s",
    (_, pattern) => {
      const offenders = trackedCode().filter((file) => {
        const text = readFileSync(join(repoRoot, file), "utf8");
        return text.split("\n").some((line) => pattern.test(line) && !/^\s*(\*|\/\/|#)/.test(line));
      });
      expect(offenders).toEqual([]);
    },
  );
});
