import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ALL_LINTS, BOOTC_LINTS, BOOTC_NATIVE_CHECKS, validateSkip } from "@frostyard/lint-bootc";
import { repoRoot } from "../helpers/run-action";

interface CatalogEntry {
  name: string;
  type: "fatal" | "warning";
  "root-type": "running" | "alternative" | null;
}

const catalog = JSON.parse(
  readFileSync(join(repoRoot, "tests/fixtures/shared/bootc-lint/lint-catalog.from-source.json"), "utf8"),
) as CatalogEntry[];

describe("the lint catalog", () => {
  test.each(catalog)("$name has bootc's type and root type", (entry) => {
    const rule = BOOTC_LINTS.find((r) => r.name === entry.name);
    expect(rule).toBeDefined();
    expect(rule?.severity).toBe(entry.type);
    expect(rule?.rootType ?? null).toBe(entry["root-type"]);
  });

  test("every bootc lint bootc's source lists statically is checked natively, except the running-root one", () => {
    const expected = catalog
      .filter((e) => e["root-type"] !== "running")
      .map((e) => e.name)
      .sort();
    expect(Object.keys(BOOTC_NATIVE_CHECKS).sort()).toEqual(expected);
  });

  test("names are unique", () => {
    expect(new Set(ALL_LINTS.map((r) => r.name)).size).toBe(ALL_LINTS.length);
  });
});

describe("validateSkip", () => {
  test.each([
    [["var-log"], ["var-log"]],
    [
      ["var-log", "var-log", "sysext-secrets"],
      ["var-log", "sysext-secrets"],
    ],
    [[], []],
    [["etc-uid-drift"], ["etc-uid-drift"]],
  ])("%j", (names, expected) => {
    expect(validateSkip(names)).toEqual(expected);
  });

  test("an unknown name is an InputError naming it and listing every valid name", () => {
    expect(() => validateSkip(["var-log", "varlog", "kernels"])).toThrow(
      /^input 'skip': unknown lint name\(s\) 'varlog', 'kernels'; expected names from api-base-directories, .*var-run, var-tmpfiles, sysext-layout, .*sysext-nonempty$/,
    );
  });
});
