import { describe, expect, test } from "vitest";
import {
  findVariable,
  formatPinnedImage,
  isFullSha,
  isLocalAction,
  lookupReference,
  splitAction,
  splitImage,
} from "@frostyard/pin-digest";

const D = `sha256:${"a".repeat(64)}`;

describe("splitImage", () => {
  test.each([
    ["debian", { name: "debian" }],
    ["debian:12", { name: "debian", tag: "12" }],
    ["library/debian:12-slim", { name: "library/debian", tag: "12-slim" }],
    ["127.0.0.1:5000/app", { name: "127.0.0.1:5000/app" }],
    ["127.0.0.1:5000/team/app:v1.2", { name: "127.0.0.1:5000/team/app", tag: "v1.2" }],
    [`ghcr.io/acme/os:1@${D}`, { name: "ghcr.io/acme/os", tag: "1", digest: D }],
    [`quay.io/a/b@${D}`, { name: "quay.io/a/b", digest: D }],
    ["localhost:5000/a_b/c-d:x", { name: "localhost:5000/a_b/c-d", tag: "x" }],
  ])("%s", (text, expected) => {
    expect(splitImage(text)).toEqual({ tag: undefined, digest: undefined, ...expected });
  });

  test.each([
    ["Debian:12", "bad name 'Debian'"],
    ["debian:", "bad tag ''"],
    ["debian:1 2", "bad tag '1 2'"],
    ["debian@sha256:abc", "bad digest 'sha256:abc'"],
    ["ghcr.io/acme/", "bad name 'ghcr.io/acme/'"],
  ])("rejects %s", (text, problem) => {
    expect(() => splitImage(text)).toThrow(`'${text}' is not a valid image reference: ${problem}`);
    expect(() => splitImage(text)).toThrow("expected [registry/]repository[:tag]");
  });

  test.each([
    ["debian:12", "debian:12"],
    ["debian", "debian:latest"],
    [`ghcr.io/a/b:1@${D}`, "ghcr.io/a/b:1"],
  ])("looks up %s as %s, and pins with the tag kept", (text, lookup) => {
    const image = splitImage(text);
    expect(lookupReference(image)).toBe(lookup);
    expect(formatPinnedImage(image, `sha256:${"b".repeat(64)}`)).toBe(`${lookup}@sha256:${"b".repeat(64)}`);
  });
});

describe("splitAction", () => {
  test.each([
    ["actions/checkout@v4", { owner: "actions", repo: "checkout", ref: "v4" }],
    ["github/codeql-action/init@v3.1", { owner: "github", repo: "codeql-action", path: "init", ref: "v3.1" }],
    [
      "acme/build/.github/workflows/build.yml@main",
      { owner: "acme", repo: "build", path: ".github/workflows/build.yml", ref: "main" },
    ],
    ["a-b/c.d_e@feature/x", { owner: "a-b", repo: "c.d_e", ref: "feature/x" }],
  ])("%s", (uses, expected) => {
    expect(splitAction(uses)).toEqual({ path: undefined, ...expected });
  });

  test.each([
    ["actions/checkout", "it has no @ref"],
    ["checkout@v4", "not of the form owner/repo[/path]@ref"],
    ["-bad/x@v1", "not of the form owner/repo[/path]@ref"],
  ])("rejects %s", (uses, why) => {
    expect(() => splitAction(uses)).toThrow(`'${uses}' is not a valid action reference: ${why}`);
  });

  test.each([
    ["./local", true],
    ["../up/action", true],
    ["owner/repo@v1", false],
  ])("isLocalAction(%s) = %s", (uses, local) => expect(isLocalAction(uses)).toBe(local));

  test.each([
    ["0123456789abcdef0123456789abcdef01234567", true],
    ["0123456789ABCDEF0123456789abcdef01234567", false],
    ["0123456", false],
    ["v4", false],
  ])("isFullSha(%s) = %s", (ref, sha) => expect(isFullSha(ref)).toBe(sha));
});

describe("findVariable", () => {
  test.each([
    ["debian:12", undefined],
    ["$BASE", "$BASE"],
    ["${BASE}:12", "${BASE}"],
    ["ghcr.io/a/b:${TAG:-1}", "${TAG:-1}"],
    ["${{ matrix.image }}", "${{ matrix.image }}"],
    ["owner/repo@${{ inputs.ref }}", "${{ inputs.ref }}"],
  ])("%s → %s", (text, variable) => expect(findVariable(text)).toBe(variable));
});
