import { describe, expect, test } from "vitest";
import {
  escapeBytes,
  extensionReleaseProblem,
  formatItems,
  mergeFindings,
  parseKargsToml,
  parseLintOutput,
  parseOsRelease,
  runtimeErrorFindings,
  sysusersNames,
  type Finding,
} from "@frostyard/lint-bootc";

describe("parseKargsToml (bootc's kargs.d schema)", () => {
  test.each([
    ['kargs = ["console=ttyS0", "quiet"]\n', { kargs: ["console=ttyS0", "quiet"] }],
    [
      '# comment\nkargs = [\n  \'mitigations=off\', # why\n  "a=\\"b\\"",\n]\nmatch-architectures = ["x86_64"]\n',
      { kargs: ["mitigations=off", 'a="b"'], matchArchitectures: ["x86_64"] },
    ],
    ["kargs = []", { kargs: [] }],
    ['"kargs" = ["x"]', { kargs: ["x"] }],
  ])("accepts %j", (text, value) => {
    expect(parseKargsToml(text)).toEqual({ ok: true, value });
  });

  test.each([
    ['kargs = "quiet"', "line 1: kargs must be an array of strings"],
    ["kargs = [1]", "line 1: kargs must be an array of strings"],
    ['kargs = ["a"]\nkarg = ["b"]', "line 2: unknown key 'karg'; expected kargs or match-architectures"],
    ['match-architectures = ["x86_64"]', "missing field `kargs`"],
    [
      '[install]\nkargs = ["a"]',
      "line 1: tables are not allowed; expected only the keys kargs and match-architectures",
    ],
    ['kargs = ["a" "b"]', "line 1: expected ',' or ']' in kargs"],
    ['kargs = ["a]', "line 1: unterminated string"],
    ['kargs = ["a\nb"]', "line 1: newline inside a string"],
    ['kargs = ["a"]\nkargs = ["b"]', "line 2: duplicate key 'kargs'"],
    ['kargs = ["\\q"]', "line 1: invalid escape '\\q'"],
  ])("rejects %j", (text, error) => {
    expect(parseKargsToml(text)).toEqual({ ok: false, error });
  });
});

describe("extension-release matching (systemd-sysext's rules)", () => {
  const base = { ID: "debian", VERSION_ID: "13", SYSEXT_LEVEL: "1.0" };
  test.each([
    ["ID and SYSEXT_LEVEL match", { ID: "debian", SYSEXT_LEVEL: "1.0" }, base, undefined],
    [
      "ID and VERSION_ID match, base has no level",
      { ID: "debian", VERSION_ID: "13" },
      { ID: "debian", VERSION_ID: "13" },
      undefined,
    ],
    [
      "VERSION_ID decides when the extension has no level",
      { ID: "debian", VERSION_ID: "13" },
      base,
      undefined,
    ],
    ["_any matches every base", { ID: "_any" }, base, undefined],
    ["no base: keys present is enough", { ID: "debian", VERSION_ID: "12" }, undefined, undefined],
    [
      "ID differs",
      { ID: "fedora", VERSION_ID: "13" },
      base,
      "extension-release ID=fedora does not match the base's ID=debian",
    ],
    [
      "level differs",
      { ID: "debian", SYSEXT_LEVEL: "2.0" },
      base,
      "extension-release SYSEXT_LEVEL=2.0 does not match the base's SYSEXT_LEVEL=1.0",
    ],
    [
      "VERSION_ID differs",
      { ID: "debian", VERSION_ID: "12" },
      { ID: "debian", VERSION_ID: "13" },
      "extension-release VERSION_ID=12 does not match the base's VERSION_ID=13",
    ],
    [
      "level only, base has none",
      { ID: "debian", SYSEXT_LEVEL: "1.0" },
      { ID: "debian", VERSION_ID: "13" },
      "extension-release has no VERSION_ID= and the base has no SYSEXT_LEVEL= to match",
    ],
    ["no ID", { VERSION_ID: "13" }, base, "extension-release has no ID="],
    [
      "neither level nor version",
      { ID: "debian" },
      base,
      "extension-release has neither SYSEXT_LEVEL= nor VERSION_ID=",
    ],
  ])("%s", (_name, extension, baseRelease, problem) => {
    expect(extensionReleaseProblem(extension, baseRelease)).toBe(problem);
  });

  test("parseOsRelease unquotes values and skips comments", () => {
    expect(
      parseOsRelease('# x\nID=debian\nVERSION_ID="13"\nPRETTY_NAME=\'Debian \\"trixie\\"\'\nbroken line\n'),
    ).toEqual({
      ID: "debian",
      VERSION_ID: "13",
      PRETTY_NAME: 'Debian "trixie"',
    });
  });
});

describe("small pieces of bootc's behaviour", () => {
  test("sysusers.d: u declares a user and its group, g a group, other types and comments nothing", () => {
    const found = sysusersNames(
      '# c\nu root 0 "Super User" /root\ng wheel 10\nu "quoted" -\nm root wheel\nr - 500-900\n',
    );
    expect([...found.users]).toEqual(["root", "quoted"]);
    expect([...found.groups]).toEqual(["root", "wheel", "quoted"]);
  });

  test.each([
    [Buffer.from("plain"), "plain"],
    [Buffer.from([0x62, 0x61, 0x64, 0xff, 0x64, 0x69, 0x72]), "bad\\xFFdir"],
    [Buffer.concat([Buffer.from("dé"), Buffer.from([0xc3])]), "dé\\xC3"],
  ])("escapeBytes(%j) as Rust's Debug prints it", (bytes, text) => {
    expect(escapeBytes(bytes)).toBe(text);
  });

  test.each([
    ["Header", [], ""],
    ["Found non-empty /boot", ["loader", "vmlinuz"], "Found non-empty /boot:\n  loader\n  vmlinuz"],
  ])("formatItems(%j, %j)", (header, items, text) => {
    expect(formatItems(header, items)).toBe(text);
  });
});

const finding = (lint: string, source: Finding["source"]): Finding => ({
  lint,
  message: `${lint} (${source})`,
  source,
  omitted: 0,
});

describe("merging bootc and native findings", () => {
  test.each([
    {
      name: "the union; a lint both report is listed once, as bootc worded it",
      bootc: { failures: [finding("var-run", "bootc")], warnings: [] },
      native: {
        failures: [finding("var-run", "native"), finding("sysext-secrets", "native")],
        warnings: [finding("var-log", "native")],
      },
      skip: [],
      failures: ["var-run (bootc)", "sysext-secrets (native)"],
      warnings: ["var-log (native)"],
    },
    {
      name: "a lint bootc reports as a warning replaces the native failure of the same name",
      bootc: { failures: [], warnings: [finding("sysusers", "bootc")] },
      native: { failures: [], warnings: [finding("sysusers", "native"), finding("nonempty-boot", "native")] },
      skip: [],
      failures: [],
      warnings: ["sysusers (bootc)", "nonempty-boot (native)"],
    },
    {
      name: "native alone keeps everything",
      bootc: undefined,
      native: { failures: [finding("kernel", "native")], warnings: [finding("var-log", "native")] },
      skip: [],
      failures: ["kernel (native)"],
      warnings: ["var-log (native)"],
    },
    {
      name: "skipped lints are dropped (bootc could not be told to skip them)",
      bootc: { failures: [finding("kernel", "bootc")], warnings: [finding("sysusers", "bootc")] },
      native: undefined,
      skip: ["kernel", "sysusers"],
      failures: [],
      warnings: [],
    },
  ])("$name", ({ bootc, native, skip, failures, warnings }) => {
    const merged = mergeFindings(bootc, native, skip);
    expect(merged.failures.map((f) => f.message)).toEqual(failures);
    expect(merged.warnings.map((f) => f.message)).toEqual(warnings);
  });

  test.each([
    [
      "a runtime error names its lint",
      "error: Linting: Unexpected runtime error running lint kernel: boom\n",
      1,
      false,
      [["kernel", "Linting: Unexpected runtime error running lint kernel: boom"]],
    ],
    [
      "an unexplained non-zero exit is a failure of bootc itself",
      "Checks passed: 3\n",
      2,
      false,
      [["bootc", "bootc container lint exited with code 2 without naming a failed lint"]],
    ],
    [
      "warnings made fatal explain the exit code",
      "Lint warning: var-log: x\nWarnings: 1\nerror: Linting: Checks failed: 1\n",
      1,
      true,
      [],
    ],
    ["a named failure explains the exit code", "Failed lint: var-run: x\n", 1, false, []],
    ["exit 0 is no runtime error", "Checks passed: 3\n", 0, false, []],
  ])("runtimeErrorFindings: %s", (_name, text, exitCode, fatalWarnings, expected) => {
    const found = runtimeErrorFindings(parseLintOutput(text, exitCode), exitCode, fatalWarnings);
    expect(found.map((f) => [f.lint, f.message])).toEqual(expected);
  });
});
