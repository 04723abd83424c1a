import { describe, expect, test } from "vitest";
import { actionEdits, applyEdits, extractYaml, imageEdits, versionComment } from "@frostyard/pin-digest";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"c".repeat(64)}`;

describe("applyEdits", () => {
  test.each([
    ["abcdef", [{ start: 1, end: 3, text: "XY" }], "aXYdef"],
    [
      "abcdef",
      [
        { start: 4, end: 4, text: "+" },
        { start: 0, end: 1, text: "" },
      ],
      "bcd+ef",
    ],
    ["abc", [], "abc"],
  ])("%s with %j → %s", (text, edits, expected) => {
    expect(applyEdits(text, edits)).toBe(expected);
  });

  test("overlapping edits are refused rather than mangling the file", () => {
    expect(() =>
      applyEdits("abcdef", [
        { start: 1, end: 4, text: "x" },
        { start: 3, end: 5, text: "y" },
      ]),
    ).toThrow("overlaps another edit");
  });
});

describe("versionComment", () => {
  test.each([
    ["v4.2.2", undefined, "v4", " # v4.2.2"],
    ["v4.2.2", "v4", "v4", " # v4.2.2"],
    ["v4.2.2", "tag=v4", "v4", " # v4.2.2"],
    ["v4.2.3", "v4.2.2", SHA, " # v4.2.3"],
    ["v4.2.2", "checkout the sources", "v4", " # v4.2.2 checkout the sources"],
    ["v4.2.2", "v4 checkout the sources", "v4", " # v4.2.2 checkout the sources"],
    ["main", "main", "main", " # main"],
  ])("%s over '# %s' (was @%s) → %j", (version, old, oldRef, expected) => {
    expect(versionComment(version, old, oldRef)).toBe(expected);
  });
});

describe("rewriting workflow YAML keeps everything but the reference", () => {
  const text = [
    "jobs:",
    "  a:",
    "    container: 'debian:12'   # base",
    "    steps:",
    "      - uses: actions/checkout@v4 # v4",
    '      - uses: "acme/x/sub@main"',
    "      - uses: acme/y@v1   ",
    "",
  ].join("\n");

  test("images and actions, quoted and plain, with and without comments", () => {
    const { refs } = extractYaml("w.yml", text);
    const [container, checkout, sub, y] = refs;
    const edits = [
      ...imageEdits(container!, `debian:12@${DIGEST}`),
      ...actionEdits(checkout!, "actions/checkout", SHA, "v4.2.2", "v4"),
      ...actionEdits(sub!, "acme/x/sub", SHA, "main", "main"),
      ...actionEdits(y!, "acme/y", SHA, "v1.0.0", "v1"),
    ];
    expect(applyEdits(text, edits)).toBe(
      [
        "jobs:",
        "  a:",
        `    container: 'debian:12@${DIGEST}'   # base`,
        "    steps:",
        `      - uses: actions/checkout@${SHA} # v4.2.2`,
        `      - uses: "acme/x/sub@${SHA}" # main`,
        `      - uses: acme/y@${SHA} # v1.0.0`,
        "",
      ].join("\n"),
    );
  });

  test("an action followed by more YAML on its line cannot take a comment: a clear error", () => {
    const { refs } = extractYaml("w.yml", "jobs:\n  a:\n    steps:\n      - { uses: a/b@v1, with: {} }\n");
    expect(() => actionEdits(refs[0]!, "a/b", SHA, "v1.0.0", "v1")).toThrow(
      "more YAML follows 'a/b@v1' on line 4, so a '# v1.0.0' comment cannot be added; put uses: on its own line",
    );
  });
});
