import { expect, test } from "vitest";
import { assertRunnable, parseActionMetadata, renderRunReport, type ActionRun } from "@frostyard/runner";

test("parseActionMetadata types what the runner reads, defaults as strings", () => {
  const metadata = parseActionMetadata(
    [
      "name: x",
      "description: d",
      "inputs:",
      "  flag: { description: f, default: false }",
      "  count: { description: c, default: 3, required: true }",
      "  bare:",
      "outputs:",
      "  digest: { description: the digest }",
      "runs: { using: node24, main: m.js, post: p.js, post-if: 'always()' }",
    ].join("\n"),
    "action.yml",
  );
  expect(metadata).toEqual({
    name: "x",
    description: "d",
    inputs: {
      flag: { description: "f", required: false, default: "false", deprecationMessage: undefined },
      count: { description: "c", required: true, default: "3", deprecationMessage: undefined },
      bare: { description: undefined, required: false, default: undefined, deprecationMessage: undefined },
    },
    outputs: { digest: { description: "the digest" } },
    runs: { using: "node24", main: "m.js", pre: undefined, post: "p.js", postIf: "always()" },
  });
});

test.each([
  { yml: "- a list", problem: "a.yml: expected a YAML mapping at the top" },
  { yml: "name: x", problem: "a.yml: missing 'runs' mapping" },
  {
    yml: "inputs: [a]\nruns: {using: node24}",
    problem: "a.yml: 'inputs' must be a mapping of name → properties",
  },
  { yml: "runs: {using: node24, main: [}", problem: "a.yml: not valid YAML" },
])("parseActionMetadata refuses: $problem", ({ yml, problem }) => {
  expect(() => parseActionMetadata(yml, "a.yml")).toThrow(problem);
});

test.each([
  {
    runs: "{using: node20, main: m.js}",
    problem: "runs.using is 'node20'; the local runner runs 'node24' actions only",
  },
  { runs: "{using: composite, steps: []}", problem: "runs.using is 'composite'" },
  { runs: "{using: node24}", problem: "runs.main is missing" },
  { runs: "{using: node24, main: m.js, pre: p.js}", problem: "runs.pre is not supported" },
])("assertRunnable refuses $runs", ({ runs, problem }) => {
  const metadata = parseActionMetadata(`runs: ${runs}`, "a.yml");
  expect(() => assertRunnable(metadata, "a.yml")).toThrow(problem);
});

const baseRun: ActionRun = {
  exitCode: 0,
  failed: false,
  outputs: {},
  annotations: [],
  summary: "",
  stdout: "",
  stderr: "",
  log: [],
  masks: [],
  state: {},
  exportedEnv: {},
  addedPath: [],
  main: { exitCode: 0, stdout: "", stderr: "", durationMs: 12 },
  tempDir: "/tmp/x",
};

test.each([
  { name: "nothing but the verdict", run: {}, report: "OK: main exited 0 in 12 ms" },
  {
    name: "outputs sorted, multi-line indented, masked",
    run: { outputs: { z: "1", a: "x\ny", t: "tok-123" } },
    report: "Outputs:\n  a:\n    x\n    y\n  t = ***\n  z = 1\n\nOK: main exited 0 in 12 ms",
  },
  {
    name: "annotations with step and location",
    run: {
      failed: true,
      exitCode: 1,
      annotations: [{ level: "error", step: "main", message: "bad", file: "a", line: 2, title: "T" }],
    },
    report: "Annotations:\n  error [main] a:2: T: bad\n\nFAILED: main exited 1 in 12 ms",
  },
  {
    name: "summary and post",
    run: { summary: "## S\n", post: { exitCode: 0, stdout: "", stderr: "", durationMs: 3 } },
    report: "Job summary:\n    ## S\n\nOK: main exited 0 in 12 ms, post exited 0 in 3 ms",
  },
])("renderRunReport: $name", ({ run, report }) => {
  const mask = (text: string) => text.replace("tok-123", "***");
  expect(renderRunReport({ ...baseRun, ...run } as ActionRun, mask)).toBe(report);
});
