import { describe, expect, test } from "vitest";
import {
  annotationLocation,
  parseWorkflowCommand,
  StepOutputProcessor,
  toAnnotation,
} from "@frostyard/runner";

describe("parseWorkflowCommand", () => {
  test.each([
    { line: "::error::boom", expected: { name: "error", properties: {}, message: "boom" } },
    { line: "   ::warning::indented", expected: { name: "warning", properties: {}, message: "indented" } },
    {
      line: "::error file=src/a.ts,line=3,col=5,title=T%3A x%2C y::multi%0Aline 100%25",
      expected: {
        name: "error",
        properties: { file: "src/a.ts", line: "3", col: "5", title: "T: x, y" },
        message: "multi\nline 100%",
      },
    },
    {
      line: "::notice title=a=b::x",
      expected: { name: "notice", properties: { title: "a=b" }, message: "x" },
    },
    { line: "::error file=,line=2::x", expected: { name: "error", properties: { line: "2" }, message: "x" } },
    { line: "::add-mask::s3cr%25t", expected: { name: "add-mask", properties: {}, message: "s3cr%t" } },
    { line: "::group::Build", expected: { name: "group", properties: {}, message: "Build" } },
    { line: "::endgroup::", expected: { name: "endgroup", properties: {}, message: "" } },
    { line: "::error:: a::b", expected: { name: "error", properties: {}, message: " a::b" } },
  ])("$line", ({ line, expected }) => {
    expect(parseWorkflowCommand(line)).toEqual(expected);
  });

  test.each(["plain output", "::unknown::x", "::error", ":error::x", "", "text ::error::x"])(
    "'%s' is not a command",
    (line) => {
      expect(parseWorkflowCommand(line)).toBeUndefined();
    },
  );
});

test.each([
  { line: "::error::x", expected: { level: "error", message: "x", step: "main" } },
  {
    line: "::warning title=Lint,file=a.conf,line=4,endLine=6,col=1,endColumn=9::bad",
    expected: {
      level: "warning",
      message: "bad",
      step: "main",
      title: "Lint",
      file: "a.conf",
      line: 4,
      endLine: 6,
      col: 1,
      endColumn: 9,
    },
  },
  { line: "::notice line=abc::x", expected: { level: "notice", message: "x", step: "main" } },
  { line: "::group::x", expected: undefined },
])("toAnnotation($line)", ({ line, expected }) => {
  const command = parseWorkflowCommand(line);
  expect(command).toBeDefined();
  expect(toAnnotation(command!, "main")).toEqual(expected);
});

test.each([
  { annotation: { level: "error" as const, message: "", step: "main" as const }, location: "" },
  { annotation: { level: "error" as const, message: "", step: "main" as const, file: "a" }, location: "a" },
  {
    annotation: { level: "error" as const, message: "", step: "main" as const, file: "a", line: 2 },
    location: "a:2",
  },
  {
    annotation: { level: "error" as const, message: "", step: "main" as const, file: "a", line: 2, col: 7 },
    location: "a:2:7",
  },
  {
    annotation: { level: "error" as const, message: "", step: "main" as const, file: "a", col: 7 },
    location: "a",
  },
])("annotationLocation → '$location'", ({ annotation, location }) => {
  expect(annotationLocation(annotation)).toBe(location);
});

describe("StepOutputProcessor", () => {
  const feed = (lines: string[], options: { showDebug?: boolean; masks?: string[] } = {}) => {
    const processor = new StepOutputProcessor("main", options);
    const shown = lines.map((line) => processor.push(line)).filter((line) => line !== undefined);
    return { shown, processor };
  };

  test.each([
    { name: "plain lines pass", lines: ["a", "b"], shown: ["a", "b"] },
    {
      name: "group shows its name, endgroup nothing",
      lines: ["::group::Build", "x", "::endgroup::"],
      shown: ["▶ Build", "x"],
    },
    { name: "debug hidden by default", lines: ["::debug::detail", "x"], shown: ["x"] },
    {
      name: "annotations shown with location",
      lines: ["::error file=a,line=2::bad"],
      shown: ["error: bad (a:2)"],
    },
    {
      name: "masks apply to later lines",
      lines: ["hunter2 before", "::add-mask::hunter2", "pw=hunter2!"],
      shown: ["hunter2 before", "pw=***!"],
    },
    {
      name: "masks apply inside annotations",
      lines: ["::add-mask::tok", "::warning::bad tok"],
      shown: ["warning: bad ***"],
    },
    {
      name: "a multi-line secret is masked line by line",
      lines: ["::add-mask::l1%0Al2", "l1", "l2"],
      shown: ["***", "***"],
    },
    {
      name: "the longer secret wins",
      lines: ["::add-mask::ab", "::add-mask::abcd", "abcd ab"],
      shown: ["*** ***"],
    },
    {
      name: "stop-commands prints commands as text until the token",
      lines: ["::stop-commands::T0K", "::error::not an error", "::T0K::", "::error::now one"],
      shown: ["::error::not an error", "error: now one"],
    },
    {
      name: "retired commands print nothing",
      lines: ["::set-output name=a::1", "::save-state name=b::2"],
      shown: [],
    },
  ])("$name", ({ lines, shown }) => {
    expect(feed(lines).shown).toEqual(shown);
  });

  test("debug lines show when asked, as with RUNNER_DEBUG=1", () => {
    expect(feed(["::debug::detail"], { showDebug: true }).shown).toEqual(["debug: detail"]);
  });

  test("collects annotations, masked, and shares masks with the next step", () => {
    const masks: string[] = [];
    const main = feed(["::add-mask::s3cret", "::error title=s3cret::x s3cret"], { masks }).processor;
    expect(main.annotations).toEqual([{ level: "error", message: "x ***", title: "***", step: "main" }]);
    const post = new StepOutputProcessor("post", { masks });
    expect(post.push("post sees s3cret")).toBe("post sees ***");
    expect(masks).toEqual(["s3cret"]);
  });
});
