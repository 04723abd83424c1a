import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import * as core from "@actions/core";
import { parseKeyValueFile, parsePathFile } from "@frostyard/runner";

describe("parseKeyValueFile", () => {
  test.each([
    { name: "empty file", text: "", expected: {} },
    { name: "name=value lines", text: "a=1\nb=two words\n", expected: { a: "1", b: "two words" } },
    { name: "value keeps later '='", text: "url=https://x?a=b\n", expected: { url: "https://x?a=b" } },
    { name: "empty value", text: "a=\n", expected: { a: "" } },
    { name: "later entry wins", text: "a=1\na=2\n", expected: { a: "2" } },
    { name: "CRLF lines", text: "a=1\r\nb=2\r\n", expected: { a: "1", b: "2" } },
    { name: "blank lines skipped", text: "\na=1\n\n\nb=2\n", expected: { a: "1", b: "2" } },
    { name: "heredoc", text: "msg<<EOF\nline 1\nline 2\nEOF\n", expected: { msg: "line 1\nline 2" } },
    { name: "empty heredoc", text: "msg<<EOF\nEOF\n", expected: { msg: "" } },
    {
      name: "heredoc keeps '=' and blank lines",
      text: "m<<X\na=b\n\nc\nX\nz=1\n",
      expected: { m: "a=b\n\nc", z: "1" },
    },
    { name: "'=' before '<<' is name=value", text: "a=b<<c\n", expected: { a: "b<<c" } },
    { name: "'<<' before '=' is a heredoc", text: "a<<D=1\nv\nD=1\n", expected: { a: "v" } },
    {
      name: "delimiter must match the whole line",
      text: "a<<EOF\nEOF \nEOFX\nEOF\n",
      expected: { a: "EOF \nEOFX" },
    },
    { name: "__proto__ is an ordinary name", text: "__proto__=x\n", expected: { ["__proto__"]: "x" } },
  ])("$name", ({ text, expected }) => {
    expect(parseKeyValueFile(text, "GITHUB_OUTPUT")).toEqual(expected);
  });

  test.each([
    { text: "=value\n", error: "GITHUB_OUTPUT: invalid format '=value': the name before '=' is empty" },
    { text: "<<EOF\nx\nEOF\n", error: "GITHUB_OUTPUT: invalid format '<<EOF': expected name<<DELIMITER" },
    { text: "name<<\nx\n", error: "GITHUB_OUTPUT: invalid format 'name<<': expected name<<DELIMITER" },
    {
      text: "name<<EOF\nnever closed\n",
      error: "GITHUB_OUTPUT: matching delimiter 'EOF' not found for 'name'",
    },
    {
      text: "just words\n",
      error: "GITHUB_OUTPUT: invalid format 'just words': expected name=value or name<<DELIMITER",
    },
  ])("refuses $text", ({ text, error }) => {
    expect(() => parseKeyValueFile(text, "GITHUB_OUTPUT")).toThrow(error);
  });

  // The format @actions/core really writes (random ghadelimiter_<uuid> heredocs), read back.
  test("reads what @actions/core's setOutput and saveState write", () => {
    const dir = mkdtempSync(join(tmpdir(), "file-commands-"));
    const output = join(dir, "output");
    const state = join(dir, "state");
    writeFileSync(output, "");
    writeFileSync(state, "");
    const saved = { GITHUB_OUTPUT: process.env.GITHUB_OUTPUT, GITHUB_STATE: process.env.GITHUB_STATE };
    process.env.GITHUB_OUTPUT = output;
    process.env.GITHUB_STATE = state;
    try {
      core.setOutput("digest", "sha256:abc");
      core.setOutput("report", "line 1\nline 2\n\nEOF\n");
      core.setOutput("json", { a: [1, "x=y"] });
      core.saveState("isPost", "true");
      expect(parseKeyValueFile(readFileSync(output, "utf8"), "GITHUB_OUTPUT")).toEqual({
        digest: "sha256:abc",
        report: "line 1\nline 2\n\nEOF\n",
        json: '{"a":[1,"x=y"]}',
      });
      expect(parseKeyValueFile(readFileSync(state, "utf8"), "GITHUB_STATE")).toEqual({ isPost: "true" });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test.each([
  { text: "", expected: [] },
  { text: "/opt/a/bin\n", expected: ["/opt/a/bin"] },
  { text: "/a\r\n\n  /b  \n", expected: ["/a", "/b"] },
])("parsePathFile($text) → $expected", ({ text, expected }) => {
  expect(parsePathFile(text)).toEqual(expected);
});
