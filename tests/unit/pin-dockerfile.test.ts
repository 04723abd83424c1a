import { describe, expect, test } from "vitest";
import { extractDockerfile } from "@frostyard/pin-digest";

/** Each reference as text, line:column and source, and proof that its span holds exactly that text. */
function found(text: string) {
  const { refs, problems } = extractDockerfile("Containerfile", text);
  for (const r of refs) expect(text.slice(r.span.start, r.span.end)).toBe(r.text);
  return {
    refs: refs.map(
      (r) => `${r.line}:${r.column} ${r.source} ${r.text}${r.variable ? ` var=${r.variable}` : ""}`,
    ),
    problems: problems.map((p) => `${p.line}: ${p.message}`),
  };
}

describe("extractDockerfile", () => {
  test.each([
    ["plain FROM", "FROM debian:12\nRUN true\n", ["1:6 dockerfile-from debian:12"]],
    ["lowercase instruction", "from debian:12\n", ["1:6 dockerfile-from debian:12"]],
    [
      "platform flag and stage name",
      "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM build\nFROM scratch\n",
      ["1:32 dockerfile-from golang:1.22"],
    ],
    [
      "stage names are case-insensitive; later stages are still images",
      "FROM a:1 as Base\nFROM BASE\nFROM b:2 AS final\n",
      ["1:6 dockerfile-from a:1", "3:6 dockerfile-from b:2"],
    ],
    [
      "line continuation",
      "FROM \\\n  --platform=linux/amd64 \\\n  debian:12 \\\n  AS x\n",
      ["3:3 dockerfile-from debian:12"],
    ],
    [
      "comments inside a continuation are dropped",
      "FROM \\\n# a comment with FROM evil:1\n  debian:12\n",
      ["3:3 dockerfile-from debian:12"],
    ],
    [
      "comment lines are not instructions",
      "# FROM commented:1\nFROM real:1\n",
      ["2:6 dockerfile-from real:1"],
    ],
    [
      "escape directive",
      "# escape=`\nFROM `\n  debian:12\nRUN echo \\\nFROM x:1\n",
      ["3:3 dockerfile-from debian:12", "5:6 dockerfile-from x:1"],
    ],
    [
      "heredoc bodies are not instructions",
      "FROM a:1\nRUN <<EOF\nFROM not-an-image:1\nEOF\nFROM b:1\n",
      ["1:6 dockerfile-from a:1", "5:6 dockerfile-from b:1"],
    ],
    [
      "ARG variables inside a reference are reported with the default",
      "ARG BASE=debian\nFROM ${BASE}:12\nFROM $OTHER\n",
      [
        "2:6 dockerfile-from ${BASE}:12 var=${BASE} (ARG default 'debian')",
        "3:6 dockerfile-from $OTHER var=$OTHER",
      ],
    ],
    [
      "an ARG default a FROM names whole is the reference, in the ARG line",
      "ARG BASE=debian:12\nFROM ${BASE}\n",
      ["1:10 dockerfile-arg debian:12"],
    ],
    [
      "$NAME, a quoted default, one reference for two FROMs",
      `ARG BASE="registry.example/os:1@sha256:${"a".repeat(64)}"\nFROM $BASE AS one\nFROM \${BASE}\n`,
      [`1:11 dockerfile-arg registry.example/os:1@sha256:${"a".repeat(64)}`],
    ],
    [
      "the ARG's last default before the FROM; an ARG naming a stage or scratch is no image",
      "ARG A=scratch\nFROM $A\nFROM b:1 AS s\nARG S=s\nFROM $S\nARG X=c:1\nARG X=c:2\nFROM ${X}\n",
      ["3:6 dockerfile-from b:1", "7:7 dockerfile-arg c:2"],
    ],
    [
      "an ARG default built from another variable is a variable",
      "ARG BASE=${REG}/os:1\nFROM ${BASE}\n",
      ["1:10 dockerfile-arg ${REG}/os:1 var=${REG}"],
    ],
    [
      "COPY --from an image, a stage or an index",
      "FROM a:1 AS s\nCOPY --from=s /x /y\nCOPY --from=0 /x /y\nCOPY --chown=1 --from=tools:2 /bin/t /t\n",
      ["1:6 dockerfile-from a:1", "4:23 dockerfile-copy-from tools:2"],
    ],
    [
      "CRLF line endings",
      "FROM a:1 AS b\r\nFROM c:2\r\n",
      ["1:6 dockerfile-from a:1", "2:6 dockerfile-from c:2"],
    ],
  ])("%s", (_name, text, refs) => {
    expect(found(text)).toEqual({ refs, problems: [] });
  });

  test("FROM with no image is a problem, not a crash", () => {
    expect(found("FROM\nFROM a:1\n")).toEqual({
      refs: ["2:6 dockerfile-from a:1"],
      problems: ["1: FROM without an image"],
    });
  });
});
