import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { inputsFrom } from "@frostyard/kit";
import { DEFAULT_PATHS, type PinReport, type RefOutcome } from "@frostyard/pin-digest";
import { documentedNames, parseActionMetadata } from "@frostyard/runner";
import { parseInputs } from "../../packages/actions/src/pin-digest/inputs";
import { annotationsFor, failureOf, summaryMarkdown } from "../../packages/actions/src/pin-digest/report";

const ACTION_DIR = join(import.meta.dirname, "../../actions/pin-digest");

describe("actions/pin-digest metadata", () => {
  const metadata = parseActionMetadata(readFileSync(join(ACTION_DIR, "action.yml"), "utf8"), "action.yml");
  const readme = readFileSync(join(ACTION_DIR, "README.md"), "utf8");

  test("the README documents exactly the inputs and outputs action.yml declares", () => {
    expect([...documentedNames(readme, "inputs")].sort()).toEqual(Object.keys(metadata.inputs).sort());
    expect([...documentedNames(readme, "outputs")].sort()).toEqual(Object.keys(metadata.outputs).sort());
  });

  test("runs on node24 from its dist bundle", () => {
    expect(metadata.runs.using).toBe("node24");
    expect(metadata.runs.main).toBe("../../dist/pin-digest/index.js");
  });

  test("action.yml defaults parse to the same values as empty inputs (one source of truth)", () => {
    const defaults = Object.fromEntries(
      Object.entries(metadata.inputs).map(([name, input]) => [
        name,
        name === "token" ? "" : (input.default ?? ""),
      ]),
    );
    expect(parseInputs(inputsFrom(defaults))).toEqual(parseInputs(inputsFrom({})));
  });
});

describe("parseInputs", () => {
  test("defaults", () => {
    expect(parseInputs(inputsFrom({}))).toEqual({
      paths: [...DEFAULT_PATHS],
      mode: "pin",
      include: "all",
      createPr: false,
      token: undefined,
      branch: "frostyard/pin-digest",
      registry: undefined,
      registryUsername: undefined,
      registryPassword: undefined,
      insecureRegistries: [],
      concurrency: 16,
    });
  });

  test("everything given", () => {
    expect(
      parseInputs(
        inputsFrom({
          paths: "Containerfile\n.github/workflows/*.yml # CI only",
          mode: "update",
          include: "images",
          "create-pr": "true",
          token: "t",
          branch: "bots/pins",
          registry: "ghcr.io",
          "registry-username": "u",
          "registry-password": "p",
          "insecure-registries": "reg.lan:5000, other.lan",
          concurrency: "4",
        }),
      ),
    ).toEqual({
      paths: ["Containerfile", ".github/workflows/*.yml"],
      mode: "update",
      include: "images",
      createPr: true,
      token: "t",
      branch: "bots/pins",
      registry: "ghcr.io",
      registryUsername: "u",
      registryPassword: "p",
      insecureRegistries: ["reg.lan:5000", "other.lan"],
      concurrency: 4,
    });
  });

  test.each([
    [{ mode: "fix" }, "input 'mode': got 'fix'; expected one of: pin, check, update"],
    [{ include: "both" }, "input 'include': got 'both'; expected one of: images, actions, all"],
    [
      { "create-pr": "yes" },
      "input 'create-pr': got 'yes'; expected one of: true, True, TRUE, false, False, FALSE",
    ],
    [{ concurrency: "0" }, "input 'concurrency': got 0; expected an integer from 1 to 64"],
    [{ concurrency: "many" }, "input 'concurrency': got 'many'; expected an integer from 1 to 64"],
    [
      { "registry-username": "u", registry: "ghcr.io" },
      "input 'registry-password': is empty while its partner is set; expected registry-username and registry-password together",
    ],
    [
      { "registry-username": "u", "registry-password": "p" },
      "input 'registry': is empty while registry-username is set; credentials are sent only to the registry they are for; expected a registry host such as ghcr.io or registry.example.com:5000",
    ],
    [
      { branch: "--force" },
      "input 'branch': got '--force'; expected a git branch name of letters, digits, '.', '_', '-' and '/'",
    ],
    [
      { branch: "a..b" },
      "input 'branch': got 'a..b'; expected a git branch name of letters, digits, '.', '_', '-' and '/'",
    ],
    [
      { "insecure-registries": "reg.lan:5000, ::error::x" },
      "input 'insecure-registries': got '::error::x'; expected registry hosts as host or host:port",
    ],
    [
      { "insecure-registries": "http://reg.lan" },
      "input 'insecure-registries': got 'http://reg.lan'; expected registry hosts as host or host:port",
    ],
  ])("%j → %s", (values, message) => {
    expect(() => parseInputs(inputsFrom(values))).toThrow(message);
  });
});

function outcome(status: RefOutcome["status"], line: number, extra: Partial<RefOutcome> = {}): RefOutcome {
  return {
    file: "Containerfile",
    line,
    column: 6,
    kind: "image",
    ref: "debian",
    old: "debian:12",
    status,
    ...extra,
  };
}

const REPORT: PinReport = {
  files: ["Containerfile", "compose.yaml"],
  outcomes: [
    outcome("pinned", 1, { new: `debian:12@sha256:${"1".repeat(64)}` }),
    outcome("unpinned", 2, { message: "'debian:12' is not pinned to a digest" }),
    outcome("variable", 3, { old: "$BASE", message: "'$BASE' contains the variable $BASE" }),
    outcome("error", 4, { message: "'debian:13': no such tag in the registry (manifest unknown)" }),
  ],
  problems: [{ file: "compose.yaml", line: 3, message: "not valid YAML: bad indentation" }],
  changedFiles: ["Containerfile"],
  lookups: { images: 2, actions: 0 },
};

describe("report", () => {
  test.each([
    ["check", "error"],
    ["update", "warning"],
  ] as const)("annotations in %s mode: unpinned is a(n) %s", (mode, unpinnedLevel) => {
    expect(
      annotationsFor(REPORT, mode).map((a) => `${a.level} ${a.file}:${a.line} ${a.title}: ${a.message}`),
    ).toEqual([
      `${unpinnedLevel} Containerfile:2 unpinned reference: 'debian:12' is not pinned to a digest`,
      "warning Containerfile:3 reference with a variable: '$BASE' contains the variable $BASE",
      "error Containerfile:4 pin-digest: 'debian:13': no such tag in the registry (manifest unknown)",
      "error compose.yaml:3 pin-digest: file matched by 'paths' not read: not valid YAML: bad indentation",
    ]);
  });

  test.each([
    [
      "check",
      "1 reference(s) not pinned: Containerfile:2 debian:12. 1 reference(s) failed: Containerfile:4 'debian:13': no such tag in the registry (manifest unknown). 1 file(s) matched by input 'paths' could not be read: compose.yaml: not valid YAML: bad indentation",
    ],
    [
      "pin",
      "1 reference(s) failed: Containerfile:4 'debian:13': no such tag in the registry (manifest unknown). 1 file(s) matched by input 'paths' could not be read: compose.yaml: not valid YAML: bad indentation",
    ],
  ] as const)("failure in %s mode", (mode, message) => {
    expect(failureOf(REPORT, mode, ["**/Containerfile"])).toBe(message);
  });

  test("a clean report does not fail", () => {
    expect(
      failureOf({ ...REPORT, outcomes: [REPORT.outcomes[0]!], problems: [] }, "check", ["**/Containerfile"]),
    ).toBeUndefined();
  });

  test.each([
    ["check", "input 'paths' matched no file ('nope/*', 'x.yml'): a check that checked nothing cannot pass"],
    ["pin", undefined],
  ] as const)("no file matched, %s mode: %s", (mode, message) => {
    const empty: PinReport = { ...REPORT, files: [], outcomes: [], problems: [], changedFiles: [] };
    expect(failureOf(empty, mode, ["nope/*", "x.yml"])).toBe(message);
  });

  test("summary: counts, the PR link and a row per reference", () => {
    const md = summaryMarkdown(REPORT, { mode: "pin" }, { number: 7, url: "https://example.test/pull/7" });
    expect(md).toContain(
      "1 pinned, 1 unpinned, 1 variable, 1 error; 1 file(s) changed; 2 image and 0 action lookup(s).",
    );
    expect(md).toContain("Pull request: [#7](https://example.test/pull/7)");
    expect(md).toContain(
      `| Containerfile:1 | \`debian\` | \`debian:12\` | \`debian:12@sha256:${"1".repeat(64)}\` | pinned |`,
    );
    expect(md).toContain("Files matched by `paths` but not read:");
    expect(md).toContain("- `compose.yaml`: not valid YAML: bad indentation");
  });
});
