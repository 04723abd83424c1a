import { expect, test } from "vitest";
import {
  ancestors,
  artifactPattern,
  cellName,
  commonRoot,
  expandMatrix,
  inputsContext,
  jobOrder,
  parseCliArgs,
  shellCommand,
  usesTarget,
} from "@frostyard/runner";

test.each([
  { name: "no matrix", matrix: undefined, cells: [{}] },
  { name: "one vector", matrix: { p: ["a", "b"] }, cells: [{ p: "a" }, { p: "b" }] },
  {
    name: "cross product in key order",
    matrix: { p: ["a", "b"], arch: ["x", "y"] },
    cells: [
      { p: "a", arch: "x" },
      { p: "a", arch: "y" },
      { p: "b", arch: "x" },
      { p: "b", arch: "y" },
    ],
  },
  {
    name: "exclude matches on every key it names",
    matrix: { p: ["a", "b"], arch: ["x", "y"], exclude: [{ p: "b", arch: "y" }, { arch: "z" }] },
    cells: [
      { p: "a", arch: "x" },
      { p: "a", arch: "y" },
      { p: "b", arch: "x" },
    ],
  },
  {
    name: "include extends matching cells, or adds a cell when it fits none",
    matrix: { p: ["a", "b"], include: [{ p: "a", extra: 1 }, { p: "c" }, { all: true }] },
    cells: [{ p: "a", extra: 1, all: true }, { p: "b", all: true }, { p: "c" }],
  },
  {
    name: "an added value may be overwritten by a later include, an original one may not",
    matrix: { p: ["a"], include: [{ extra: 1 }, { extra: 2 }, { p: "b", extra: 3 }] },
    cells: [
      { p: "a", extra: 2 },
      { p: "b", extra: 3 },
    ],
  },
  {
    name: "include only (what fromJSON of the plan's cells gives)",
    matrix: {
      include: [
        { profile: "a", platform: "linux/amd64" },
        { profile: "b", platform: "linux/amd64" },
      ],
    },
    cells: [
      { profile: "a", platform: "linux/amd64" },
      { profile: "b", platform: "linux/amd64" },
    ],
  },
  {
    name: "object values compare whole",
    matrix: { o: [{ k: 1 }, { k: 2 }], exclude: [{ o: { k: 2 } }] },
    cells: [{ o: { k: 1 } }],
  },
])("expandMatrix: $name", ({ matrix, cells }) => {
  expect(expandMatrix(matrix, "job j")).toEqual(cells);
});

test.each([
  { matrix: "a,b", problem: "job j: strategy.matrix must be a mapping" },
  { matrix: { p: [] }, problem: "matrix key 'p' must be a non-empty list" },
  { matrix: { p: "a" }, problem: "matrix key 'p' must be a non-empty list" },
  { matrix: { include: "x" }, problem: "matrix include must be a list of mappings" },
  { matrix: { p: ["a"], exclude: [{ p: "a" }] }, problem: "the matrix has no cells" },
  { matrix: { include: [] }, problem: "the matrix has no cells" },
])("expandMatrix refuses $matrix", ({ matrix, problem }) => {
  expect(() => expandMatrix(matrix, "job j")).toThrow(problem);
});

test.each([
  { cell: {}, name: "build" },
  { cell: { profile: "a", platform: "linux/amd64" }, name: "build (a, linux/amd64)" },
  { cell: { o: { k: 1 } }, name: 'build ({"k":1})' },
])("cellName($cell) → $name", ({ cell, name }) => {
  expect(cellName("build", cell)).toBe(name);
});

const jobs = [
  { id: "summary", needs: ["build", "sign"] },
  { id: "plan", needs: [] },
  { id: "sign", needs: ["build"] },
  { id: "build", needs: ["plan"] },
  { id: "other", needs: [] },
];

test("jobOrder runs every job after what it needs, file order where free", () => {
  expect(jobOrder(jobs).map((j) => j.id)).toEqual(["plan", "build", "sign", "summary", "other"]);
});

test.each([
  {
    jobs: [
      { id: "a", needs: ["b"] },
      { id: "b", needs: ["a"] },
    ],
    problem: "needs form a cycle: a → b → a",
  },
  { jobs: [{ id: "a", needs: ["nope"] }], problem: "job a: needs 'nope', which is not a job" },
])("jobOrder refuses: $problem", ({ jobs, problem }) => {
  expect(() => jobOrder(jobs)).toThrow(problem);
});

test.each([
  { id: "summary", expected: ["build", "plan", "sign"] },
  { id: "plan", expected: [] },
])("ancestors($id)", ({ id, expected }) => {
  expect(ancestors(id, jobs).sort()).toEqual(expected);
});

const definitions = {
  image: { type: "string", required: true },
  profiles: { type: "string", default: "" },
  sysexts: { type: "boolean", default: false },
  count: { type: "number", default: 2 },
  plain: {},
};

test.each<{ given: Record<string, string>; inputs: object }>([
  {
    given: { image: "r/os" },
    inputs: { image: "r/os", profiles: "", sysexts: false, count: 2, plain: "" },
  },
  {
    given: { image: "r/os", sysexts: "true", count: "3", plain: "x" },
    inputs: { image: "r/os", profiles: "", sysexts: true, count: 3, plain: "x" },
  },
])("inputsContext($given)", ({ given, inputs }) => {
  expect(inputsContext(definitions, given)).toEqual(inputs);
});

test.each<{ given: Record<string, string>; problem: string }>([
  { given: {}, problem: "input image: required but not given" },
  {
    given: { image: "r", sysexts: "yes" },
    problem: "input sysexts: 'yes' is not a boolean; accepted: true, false",
  },
  { given: { image: "r", count: "two" }, problem: "input count: 'two' is not a number" },
  { given: { image: "r", nope: "1" }, problem: "inputs: 'nope' not declared" },
])("inputsContext refuses $given", ({ given, problem }) => {
  expect(() => inputsContext(definitions, given)).toThrow(problem);
});

test.each([
  { shell: undefined, expected: { command: "bash", args: ["-e"] } },
  { shell: "bash", expected: { command: "bash", args: ["--noprofile", "--norc", "-eo", "pipefail"] } },
  { shell: "sh", expected: { command: "sh", args: ["-e"] } },
])("shellCommand($shell)", ({ shell, expected }) => {
  expect(shellCommand(shell, "job j step 1")).toEqual(expected);
});

test("shellCommand refuses a shell it does not model, naming the step", () => {
  expect(() => shellCommand("pwsh", "job j step 2")).toThrow("job j step 2: shell: 'pwsh' is not supported");
});

test.each([
  { uses: "$/actions/build-mkosi", expected: { kind: "local", dir: "/repo/actions/build-mkosi" } },
  { uses: "./actions/x", expected: { kind: "local", dir: "/work/actions/x" } },
  { uses: "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", expected: { kind: "checkout" } },
  { uses: "actions/upload-artifact@v4", expected: { kind: "upload-artifact" } },
  { uses: "actions/download-artifact@v4", expected: { kind: "download-artifact" } },
  { uses: "actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444", expected: { kind: "setup-node" } },
])("usesTarget($uses)", ({ uses, expected }) => {
  expect(usesTarget(uses, "/repo", "/work", "job j step 1")).toEqual(expected);
});

test.each(["docker://alpine", "actions/cache@v4", "acme/thing@v1", "actions/setup-nodejs@v1"])(
  "usesTarget refuses %s",
  (uses) => {
    expect(() => usesTarget(uses, "/repo", "/work", "job j step 1")).toThrow(
      `job j step 1: uses: ${uses} is not supported by the local runner`,
    );
  },
);

test.each([
  { pattern: "frostyard-*", name: "frostyard-digest-a", match: true },
  { pattern: "frostyard-digest-*", name: "frostyard-index-a", match: false },
  { pattern: "cell-?", name: "cell-a", match: true },
  { pattern: "a.b", name: "axb", match: false },
])("artifactPattern($pattern) on $name → $match", ({ pattern, name, match }) => {
  expect(artifactPattern(pattern).test(name)).toBe(match);
});

test.each([
  { paths: ["/t/a/x.json", "/t/a/y.json"], root: "/t/a" },
  { paths: ["/t/a/x.json", "/t/b"], root: "/t" },
  { paths: ["/x", "/y"], root: "/" },
])("commonRoot($paths) → $root", ({ paths, root }) => {
  expect(commonRoot(paths)).toBe(root);
});

const workflow = (extra: object = {}) => ({
  command: "workflow",
  file: ".github/workflows/build.yml",
  event: "push",
  inputs: {},
  secrets: {},
  vars: {},
  env: {},
  debug: false,
  ...extra,
});

test.each([
  { argv: ["workflow", ".github/workflows/build.yml"], expected: workflow() },
  {
    argv: ["workflow", ".github/workflows/build.yml", "--event", "pull_request", "-i", "image=r/os"],
    expected: workflow({ event: "pull_request", inputs: { image: "r/os" } }),
  },
  {
    argv: [
      "workflow",
      "--secret",
      "COSIGN_PASSWORD",
      "--secret=COSIGN_PRIVATE_KEY=MY_KEY",
      ".github/workflows/build.yml",
    ],
    expected: workflow({ secrets: { COSIGN_PASSWORD: "COSIGN_PASSWORD", COSIGN_PRIVATE_KEY: "MY_KEY" } }),
  },
  {
    argv: ["workflow", ".github/workflows/build.yml", "--var", "a=b", "--hosted-services", "-w", "/w"],
    expected: workflow({ vars: { a: "b" }, hostedServices: {}, workdir: "/w" }),
  },
])("parseCliArgs($argv)", ({ argv, expected }) => {
  expect(parseCliArgs(argv)).toEqual(expected);
});

test.each([
  {
    argv: ["workflow", "f.yml", "--event", "schedule"],
    problem: "--event 'schedule': expected push or pull_request",
  },
  {
    argv: ["workflow", "f.yml", "--secret", "K=some value"],
    problem: "--secret 'K=some value': expected NAME or NAME=VAR",
  },
  { argv: ["workflow"], problem: "missing <file>" },
  {
    argv: ["run", "pin-digest", "--event", "push"],
    problem: "--event is an option of 'workflow', not of 'run'",
  },
])("parseCliArgs refuses $argv", ({ argv, problem }) => {
  expect(() => parseCliArgs(argv)).toThrow(problem);
});
