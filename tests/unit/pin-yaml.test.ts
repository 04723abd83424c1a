import { describe, expect, test } from "vitest";
import { extractYaml } from "@frostyard/pin-digest";

function found(text: string) {
  const { refs, problems } = extractYaml("f.yml", text);
  for (const r of refs) expect(text.slice(r.span.start, r.span.end)).toBe(r.text);
  return {
    refs: refs.map(
      (r) =>
        `${r.line}:${r.column} ${r.kind} ${r.source} ${r.text}` +
        (r.variable ? ` var=${r.variable}` : "") +
        (r.kind === "action"
          ? r.commentSlot
            ? ` comment=${JSON.stringify(r.commentSlot.text ?? null)}`
            : " no-slot"
          : ""),
    ),
    problems: problems.map((p) => `${p.line}: ${p.message}`),
  };
}

const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container: debian:12 # the build image
    services:
      db:
        image: "postgres:16"
    steps:
      - uses: actions/checkout@v4 # v4
      - uses: './local-action'
      - uses: docker://alpine:3.20
      - name: build
        uses: 'acme/build/actions/x@main'
        with:
          image: ghcr.io/acme/os
      - uses: acme/tool@\${{ inputs.ref }}
  call:
    uses: acme/build/.github/workflows/build.yml@v1
  boxed:
    container:
      image: ghcr.io/acme/box:1
    steps:
      - { uses: actions/setup-node@v4, with: { node-version: 24 } }
`;

describe("extractYaml", () => {
  test("workflow: steps, reusable workflows, containers and services; with: inputs are not refs", () => {
    expect(found(WORKFLOW)).toEqual({
      refs: [
        "5:16 image workflow-container debian:12",
        "8:17 image workflow-service postgres:16",
        '10:15 action workflow-uses actions/checkout@v4 comment="v4"',
        "12:24 image workflow-uses alpine:3.20",
        "14:16 action workflow-uses acme/build/actions/x@main comment=null",
        "17:15 action workflow-uses acme/tool@${{ inputs.ref }} var=${{ inputs.ref }} comment=null",
        "19:11 action workflow-uses acme/build/.github/workflows/build.yml@v1 comment=null",
        "22:14 image workflow-container ghcr.io/acme/box:1",
        "24:17 action workflow-uses actions/setup-node@v4 no-slot",
      ],
      problems: [],
    });
  });

  test.each([
    [
      "composite action",
      "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n",
      ["4:13 action action-uses actions/cache@v4 comment=null"],
    ],
    [
      "docker action with docker://",
      "runs:\n  using: docker\n  image: docker://debian:12\n",
      ["3:19 image action-image debian:12"],
    ],
    ["docker action with a Dockerfile", "runs:\n  using: docker\n  image: Dockerfile\n", []],
    [
      "compose",
      "services:\n  web:\n    image: nginx:1.27\n  app:\n    build: .\n  cache:\n    image: 'redis'\n",
      ["3:12 image compose-image nginx:1.27", "7:13 image compose-image redis"],
    ],
    [
      "several documents",
      "services:\n  a:\n    image: a:1\n---\nservices:\n  b:\n    image: b:2\n",
      ["3:12 image compose-image a:1", "7:12 image compose-image b:2"],
    ],
    ["unrelated YAML", "name: x\nimage: not/a-ref:1\n", []],
  ])("%s", (_name, text, refs) => {
    expect(found(text)).toEqual({ refs, problems: [] });
  });

  test.each([
    ["invalid YAML names the line", "jobs:\n  a:\n    steps: [\n", /^\d+: not valid YAML: /],
    [
      "block scalar",
      "jobs:\n  a:\n    container: |\n      debian:12\n",
      /^3: 'debian:12\n' is a block scalar/,
    ],
    [
      "escaped quotes",
      'services:\n  a:\n    image: "deb\\x69an:12"\n',
      /^3: 'debian:12' uses escapes or folding/,
    ],
  ])("%s is a problem, with no refs", (_name, text, problem) => {
    const result = found(text);
    expect(result.refs).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(problem);
  });
});
