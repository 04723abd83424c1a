import { describe, expect, test } from "vitest";
import { exitMessage, formatCommandLine, LineSplitter, spawnFailureMessage } from "@frostyard/kit";

function split(chunks: (string | Buffer)[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  const euro = Buffer.from("€"); // three bytes

  test.each<[string, (string | Buffer)[], string[]]>([
    ["one chunk", ["a\nb\n"], ["a", "b"]],
    ["no trailing newline", ["a\nb"], ["a", "b"]],
    ["line across chunks", ["ab", "c\nd", "e\n"], ["abc", "de"]],
    ["CRLF", ["a\r\nb\r\n"], ["a", "b"]],
    ["lone CR kept inside a line", ["50%\r100%\n"], ["50%\r100%"]],
    ["empty lines kept", ["\n\nx\n"], ["", "", "x"]],
    ["nothing", [], []],
    ["multibyte char split across chunks", [euro.subarray(0, 1), euro.subarray(1), "\n"], ["€"]],
  ])("%s", (_name, chunks, expected) => {
    expect(split(chunks)).toEqual(expected);
  });

  test("a line without newlines is handed on in 64 KiB pieces", () => {
    const lines = split(["x".repeat(150 * 1024)]);
    expect(lines.map((l) => l.length)).toEqual([65536, 65536, 22528]);
  });
});

describe("formatCommandLine", () => {
  test.each<[string, string[], string]>([
    ["mkosi", ["--profile", "snow", "build"], "mkosi --profile snow build"],
    ["sh", ["-c", "echo hi"], "sh -c 'echo hi'"],
    ["printf", ["it's"], "printf 'it'\\''s'"],
    [
      "skopeo",
      ["copy", "docker://127.0.0.1:5000/os@sha256:ab"],
      "skopeo copy docker://127.0.0.1:5000/os@sha256:ab",
    ],
    ["x", [""], "x ''"],
  ])("%s %j → %s", (command, args, expected) => {
    expect(formatCommandLine(command, args)).toBe(expected);
  });
});

describe("exitMessage", () => {
  test.each<[number | undefined, NodeJS.Signals | undefined, string[], string]>([
    [
      1,
      undefined,
      ["E: no space left", "build failed"],
      "mkosi exited with code 1:\nE: no space left\nbuild failed",
    ],
    [2, undefined, [], "mkosi exited with code 2 (no output on stderr)"],
    [undefined, "SIGKILL", ["killed"], "mkosi was killed by signal SIGKILL:\nkilled"],
  ])("%j %j", (exitCode, signal, tail, expected) => {
    expect(exitMessage("mkosi", exitCode, signal, tail)).toBe(expected);
  });
});

describe("spawnFailureMessage", () => {
  test.each<[string, string, string]>([
    ["mkosi", "ENOENT", "'mkosi' was not found on PATH"],
    ["/opt/mkosi/bin/mkosi", "ENOENT", "'/opt/mkosi/bin/mkosi' does not exist"],
    ["./tool", "EACCES", "'./tool' is not executable (permission denied)"],
    ["tool", "E2BIG", "'tool' could not be started: spawn E2BIG"],
  ])("%s %s", (command, code, expected) => {
    const error = Object.assign(new Error(`spawn ${code}`), { code });
    expect(spawnFailureMessage(command, error)).toBe(expected);
  });
});
