import { describe, expect, test } from "vitest";
import { maskSecrets, recordingLogger, redact, secretFragments, type Logger } from "@frostyard/kit";

const pem = "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBg\n  kqhkiG9w0BAQEF  \n-----END PRIVATE KEY-----\n";

describe("secretFragments", () => {
  test.each<[string, (string | undefined | null)[], string[]]>([
    ["single-line values as they are", ["tok", " spaced "], ["tok", " spaced "]],
    ["empty and missing values skipped", ["", undefined, null], []],
    ["duplicates once", ["a", "a"], ["a"]],
    [
      "multi-line: the whole value and each trimmed non-blank line",
      [pem],
      [pem, "-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBg", "kqhkiG9w0BAQEF", "-----END PRIVATE KEY-----"],
    ],
  ])("%s", (_name, values, expected) => {
    expect(secretFragments(values)).toEqual(expected);
  });
});

describe("maskSecrets", () => {
  test("registers each non-empty value and each line of multi-line values with the logger", () => {
    const masked: string[] = [];
    const logger: Logger = { ...recordingLogger(), setSecret: (v) => masked.push(v) };
    maskSecrets(logger, ["token", "", undefined, "line1\nline2"]);
    expect(masked).toEqual(["token", "line1\nline2", "line1", "line2"]);
  });
});

describe("redact", () => {
  test.each<[string, string, (string | undefined)[], string]>([
    ["every occurrence", "a tok b tok", ["tok"], "a *** b ***"],
    ["no secrets", "plain", [], "plain"],
    ["empty secret ignored", "plain", ["", undefined], "plain"],
    ["longest first so no remainder shows", "pass=hunter2x", ["hunter2", "hunter2x"], "pass=***"],
    ["a line of a multi-line secret on its own", "key line: kqhkiG9w0BAQEF", [pem], "key line: ***"],
    ["regex characters are literal", "p.*s and pas", ["p.*s"], "*** and pas"],
  ])("%s", (_name, text, secrets, expected) => {
    expect(redact(text, secrets)).toBe(expected);
  });
});
