import { expect, test } from "vitest";
import { parseCliArgs, USAGE } from "@frostyard/runner";

const run = (extra: object = {}) => ({
  command: "run",
  action: "pin-digest",
  inputs: {},
  env: {},
  debug: false,
  ...extra,
});

test.each([
  { argv: ["help"], expected: { command: "help" } },
  { argv: ["--help"], expected: { command: "help" } },
  { argv: ["run", "pin-digest", "-h"], expected: { command: "help" } },
  { argv: ["run", "pin-digest"], expected: run() },
  { argv: ["run", "pin-digest", "--input", "mode=check"], expected: run({ inputs: { mode: "check" } }) },
  {
    argv: ["run", "-i", "a=1", "pin-digest", "-i", "b=x=y"],
    expected: run({ inputs: { a: "1", b: "x=y" } }),
  },
  { argv: ["run", "pin-digest", "--input=paths=a\nb"], expected: run({ inputs: { paths: "a\nb" } }) },
  { argv: ["run", "pin-digest", "-i", "empty="], expected: run({ inputs: { empty: "" } }) },
  {
    argv: ["run", "pin-digest", "-i", "registry token=t"],
    expected: run({ inputs: { "registry token": "t" } }),
  },
  {
    argv: ["run", "pin-digest", "-e", "GITHUB_TOKEN=t", "--env=A_1=2"],
    expected: run({ env: { GITHUB_TOKEN: "t", A_1: "2" } }),
  },
  {
    argv: ["run", "pin-digest", "--workdir", "/w", "--debug"],
    expected: run({ workdir: "/w", debug: true }),
  },
  { argv: ["run", "-w", "/w", "."], expected: run({ action: ".", workdir: "/w" }) },
  { argv: ["run", "pin-digest", "--hosted-services"], expected: run({ hostedServices: {} }) },
  {
    argv: ["run", "--hosted-services=.cache/hosted", "pin-digest"],
    expected: run({ hostedServices: { dir: ".cache/hosted" } }),
  },
  {
    argv: ["run", "pin-digest", "--hosted-services=/srv/a=b", "--debug"],
    expected: run({ hostedServices: { dir: "/srv/a=b" }, debug: true }),
  },
  // The directory is only ever inline: a following word is the action, not the directory.
  { argv: ["run", "--hosted-services", "pin-digest"], expected: run({ hostedServices: {} }) },
])("$argv", ({ argv, expected }) => {
  expect(parseCliArgs(argv)).toEqual(expected);
});

test("the usage documents --hosted-services", () => {
  expect(USAGE).toContain("--hosted-services[=DIR]");
  expect(USAGE).toMatch(/ACTIONS_RESULTS_URL/);
});

test.each([
  { argv: [], problem: "missing command" },
  { argv: ["build"], problem: "unknown command 'build'; expected run" },
  { argv: ["run"], problem: "missing <action>" },
  { argv: ["run", "a", "b"], problem: "expected one <action>, got a b" },
  { argv: ["run", "a", "--input"], problem: "--input needs a value" },
  { argv: ["run", "a", "--input", "novalue"], problem: "--input 'novalue': expected name=value" },
  { argv: ["run", "a", "-i", "=v"], problem: "-i '=v': expected name=value" },
  { argv: ["run", "a", "--env", "1BAD=x"], problem: "--env '1BAD': not a valid environment variable name" },
  { argv: ["run", "a", "--verbose"], problem: "unknown option '--verbose'" },
  { argv: ["run", "a", "--hosted-services="], problem: "--hosted-services=: expected a directory after '='" },
  { argv: ["run", "a", "--hosted-service"], problem: "unknown option '--hosted-service'" },
  { argv: ["run", "--hosted-services", "a", "b"], problem: "expected one <action>, got a b" },
])("refuses $argv: $problem (with usage)", ({ argv, problem }) => {
  expect(() => parseCliArgs(argv)).toThrow(problem);
  expect(() => parseCliArgs(argv)).toThrow(/usage: frostyard-build run <action>/);
});
