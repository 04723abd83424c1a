import { describe, expect, test } from "vitest";
import { codeBlock, details, formatBytes, formatDuration, heading, markdownTable } from "@frostyard/kit";

describe("markdownTable", () => {
  test.each<[string, string[], (string | number)[][], string]>([
    [
      "simple",
      ["profile", "size"],
      [["snow", "1.2 GiB"]],
      "| profile | size |\n| --- | --- |\n| snow | 1.2 GiB |",
    ],
    ["numbers", ["n"], [[1], [2]], "| n |\n| --- |\n| 1 |\n| 2 |"],
    ["no rows", ["a", "b"], [], "| a | b |\n| --- | --- |"],
    ["pipe escaped", ["cmd"], [["a | b"]], "| cmd |\n| --- |\n| a \\| b |"],
    ["backslash before a pipe stays literal", ["x"], [["a\\|b"]], "| x |\n| --- |\n| a\\\\\\|b |"],
    ["newlines become <br>", ["msg"], [["one\ntwo\r\nthree"]], "| msg |\n| --- |\n| one<br>two<br>three |"],
    ["short rows padded", ["a", "b", "c"], [["1"]], "| a | b | c |\n| --- | --- | --- |\n| 1 |  |  |"],
    ["header escaped too", ["a|b"], [], "| a\\|b |\n| --- |"],
  ])("%s", (_name, headers, rows, expected) => {
    expect(markdownTable(headers, rows)).toBe(expected);
  });

  test("a row longer than the headers is refused", () => {
    expect(() => markdownTable(["a"], [["1", "2"]])).toThrow(
      "markdownTable: row 1 has 2 cells for 1 headers",
    );
  });
});

describe("codeBlock", () => {
  test.each<[string, string, string | undefined, string]>([
    ["plain", "echo hi", undefined, "```\necho hi\n```"],
    ["language", '{"a":1}', "json", '```json\n{"a":1}\n```'],
    ["one trailing newline dropped", "x\n", undefined, "```\nx\n```"],
    ["triple backticks inside", "a ``` b", "md", "````md\na ``` b\n````"],
    ["a longer run", "`````", undefined, "``````\n`````\n``````"],
    ["short runs keep three", "`x` and ``y``", undefined, "```\n`x` and ``y``\n```"],
  ])("%s", (_name, text, lang, expected) => {
    expect(codeBlock(text, lang)).toBe(expected);
  });
});

describe("formatDuration", () => {
  test.each<[number, string]>([
    [0, "0 ms"],
    [-5, "0 ms"],
    [Number.NaN, "0 ms"],
    [0.4, "0 ms"],
    [850, "850 ms"],
    [999.4, "999 ms"],
    [999.6, "1.0 s"],
    [4_200, "4.2 s"],
    [4_249, "4.2 s"],
    [59_940, "59.9 s"],
    [59_960, "1 min 00 s"],
    [65_000, "1 min 05 s"],
    [600_000, "10 min 00 s"],
    [3_599_400, "59 min 59 s"],
    [3_599_600, "1 h 00 min"],
    [3_720_000, "1 h 02 min"],
    [90_000_000, "25 h 00 min"],
  ])("%d → %s", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe("formatBytes", () => {
  test.each<[number, string]>([
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1 KiB"],
    [1536, "1.5 KiB"],
    [10 * 1024 + 300, "10.3 KiB"],
    [12.3 * 1024 ** 2, "12.3 MiB"],
    [123.4 * 1024 ** 2, "123 MiB"],
    [1023.9 * 1024, "1 MiB"],
    [1.02 * 1024 ** 3, "1.02 GiB"],
    [1.5 * 1024 ** 4, "1.5 TiB"],
    [-1536, "-1.5 KiB"],
  ])("%d → %s", (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });
});

describe("details and heading", () => {
  test.each<[string, string, string]>([
    ["build log", "```\nok\n```", "<details><summary>build log</summary>\n\n```\nok\n```\n\n</details>"],
    ["a <b> & c", "x", "<details><summary>a &lt;b&gt; &amp; c</summary>\n\nx\n\n</details>"],
  ])("details(%j)", (summary, body, expected) => {
    expect(details(summary, body)).toBe(expected);
  });

  test.each<[string, 1 | 2 | 3 | 4 | 5 | 6 | undefined, string]>([
    ["Build", undefined, "## Build"],
    ["Build", 1, "# Build"],
    ["Scan results", 6, "###### Scan results"],
    ["two\nlines ", 3, "### two lines"],
  ])("heading(%j, %j)", (text, level, expected) => {
    expect(heading(text, level)).toBe(expected);
  });

  test("a level outside 1 to 6 is refused", () => {
    expect(() => heading("x", 7 as 6)).toThrow("heading: level 7 is not 1 to 6");
  });
});
