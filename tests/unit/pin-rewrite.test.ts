import { describe, expect, test } from "vitest";
import {
  actionEdits,
  applyEdits,
  extractYaml,
  imageEdits,
  pinComment,
  readCommentRef,
} from "@frostyard/pin-digest";

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

describe("pinComment", () => {
  // [version, old comment, old ref, new comment, words moved to a line above]
  test.each<[string, string | undefined, string, string, string?]>([
    ["v4.2.2", undefined, "v4", " # v4.2.2"],
    ["v4.2.2", "v4", "v4", " # v4.2.2"],
    // The user's form is kept: only the version word changes.
    ["v4.2.2", "tag=v4", "v4", " # tag=v4.2.2"],
    ["v4.2.3", "v4.2.2", SHA, " # v4.2.3"],
    ["v4.2.2", "checkout the sources", "v4", " # v4.2.2 checkout the sources"],
    ["v4.2.2", "v4 checkout the sources", "v4", " # v4.2.2 checkout the sources"],
    ["v4.2.2", "checkout", "v4", " # v4.2.2 checkout"],
    ["main", "main", "main", " # main"],
    // Update mode follows the tag the comment names: a comment that already names it stays as written.
    ["v1.2.3", "tag = v1.2.3", SHA, " # tag = v1.2.3"],
    ["v1.2.3", "renovate: tag=v1.2.3", SHA, " # renovate: tag=v1.2.3"],
    ["v1.2.3", "renovate: pin v1.2.3", SHA, " # renovate: pin v1.2.3"],
    ["v1.2.3", "ratchet:owner/repo@v1.2.3", SHA, " # ratchet:owner/repo@v1.2.3"],
    ["v1.2.3", "v1.2.3+build.5", SHA, " # v1.2.3+build.5"],
    ["v1.2.3", "pin @v1.2.3", SHA, " # pin @v1.2.3"],
    // Pin mode refines the version inside the user's form, never in front of it.
    ["v1.2.4", "pin @v1.2", "v1.2", " # pin @v1.2.4"],
    ["v1.2.4", "renovate: tag=v1", "v1", " # renovate: tag=v1.2.4"],
    ["v1.2.4", "renovate: pin v1", "v1", " # renovate: pin v1.2.4"],
    ["v1.2.4", "ratchet:owner/repo@v1", "v1", " # ratchet:owner/repo@v1.2.4"],
    ["v1.3.0", "v1.2.3+build.5 pinned by hand", "v1", " # v1.3.0 pinned by hand"],
    // A branch is read by Renovate only as the whole comment: the user's words move to a line above.
    ["main", "nightly build", "main", " # main", "nightly build"],
    ["main", "main nightly build", "main", " # main", "nightly build"],
    ["main", "v2 nightly", "main", " # main", "v2 nightly"],
  ])("%s over '# %s' (was @%s) → %j", (version, old, oldRef, comment, aside) => {
    expect(pinComment(version, old, oldRef)).toEqual(aside ? { comment, aside } : { comment });
    // What Renovate reads back from the comment written is the version pinned.
    expect(readCommentRef(comment.replace(/^ # /, ""))?.ref).toBe(version);
  });
});

describe("readCommentRef reads what Renovate's github-actions manager reads", () => {
  test.each<[string, string | undefined]>([
    ["v1.2.3", "v1.2.3"],
    ["tag = v1.2.3", "v1.2.3"],
    ["tag=v1.2.3", "v1.2.3"],
    ["renovate: tag=v1.2.3", "v1.2.3"],
    ["renovate: pin v1.2.3", "v1.2.3"],
    ["pin @v1.2.3", "v1.2.3"],
    ["ratchet:owner/repo@v1.2.3", "v1.2.3"],
    ["ratchet:owner/repo/sub/path@v2", "v2"],
    ["v1.2.3+build.5", "v1.2.3"],
    ["v1.2.3-rc.1 with words", "v1.2.3-rc.1"],
    ["release/v2.0", "release/v2.0"],
    ["main", "main"],
    ["main nightly build", undefined],
    ["nightly build", undefined],
    ["ratchet:exclude", undefined],
  ])("'# %s' → %s", (comment, ref) => {
    expect(readCommentRef(comment)?.ref).toBe(ref);
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

  test("a branch pin's own words go on a comment line above, so Renovate reads the branch", () => {
    for (const eol of ["\n", "\r\n"]) {
      const source = ["jobs:", "  a:", "    steps:", "      - uses: acme/tool@main # nightly build", ""].join(
        eol,
      );
      const { refs } = extractYaml("w.yml", source);
      expect(applyEdits(source, actionEdits(refs[0]!, "acme/tool", SHA, "main", "main"))).toBe(
        [
          "jobs:",
          "  a:",
          "    steps:",
          "      # nightly build",
          `      - uses: acme/tool@${SHA} # main`,
          "",
        ].join(eol),
      );
    }
  });

  test("an action followed by more YAML on its line cannot take a comment: a clear error", () => {
    const { refs } = extractYaml("w.yml", "jobs:\n  a:\n    steps:\n      - { uses: a/b@v1, with: {} }\n");
    expect(() => actionEdits(refs[0]!, "a/b", SHA, "v1.0.0", "v1")).toThrow(
      "more YAML follows 'a/b@v1' on line 4, so a '# v1.0.0' comment cannot be added; put uses: on its own line",
    );
  });
});
