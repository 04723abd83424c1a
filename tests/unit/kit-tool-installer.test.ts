import { describe, expect, test } from "vitest";
import { findDownload, InputError, runnerArch, type ToolArch, type ToolDownload } from "@frostyard/kit";

function entry(tool: string, version: string, arch: ToolArch): ToolDownload {
  return {
    tool,
    version,
    platform: "linux",
    arch,
    url: `https://example.invalid/${tool}/${version}/${arch}`,
    sha256: "0".repeat(64),
    archive: "none",
    binaries: [tool],
  };
}

const table: ToolDownload[] = [
  entry("cosign", "2.4.1", "x64"),
  entry("cosign", "2.4.1", "arm64"),
  entry("cosign", "2.2.4", "x64"),
  entry("trivy", "v0.58.1", "x64"),
];

describe("findDownload", () => {
  test.each<[string, string, ToolArch, string]>([
    ["cosign", "2.4.1", "x64", "https://example.invalid/cosign/2.4.1/x64"],
    ["cosign", "2.4.1", "arm64", "https://example.invalid/cosign/2.4.1/arm64"],
    ["cosign", "v2.4.1", "x64", "https://example.invalid/cosign/2.4.1/x64"],
    ["cosign", " 2.2.4 ", "x64", "https://example.invalid/cosign/2.2.4/x64"],
    ["trivy", "0.58.1", "x64", "https://example.invalid/trivy/v0.58.1/x64"],
  ])("%s %j %s", (tool, version, arch, url) => {
    expect(findDownload(table, tool, version, arch).url).toBe(url);
  });

  test.each<[string, string, ToolArch, string]>([
    [
      "cosign",
      "3.0.0",
      "x64",
      "cosign 3.0.0 is not in the table of pinned downloads; expected one of: 2.4.1, 2.2.4",
    ],
    [
      "cosign",
      "2.4",
      "x64",
      "cosign 2.4 is not in the table of pinned downloads; expected one of: 2.4.1, 2.2.4",
    ],
    [
      "cosign",
      "latest",
      "x64",
      "cosign version 'latest' is not a pinned version; expected an exact version: 2.4.1, 2.2.4",
    ],
    [
      "cosign",
      "",
      "x64",
      "cosign version '' is not a pinned version; expected an exact version: 2.4.1, 2.2.4",
    ],
    [
      "cosign",
      "2.2.4",
      "arm64",
      "cosign 2.2.4 has no arm64 download; expected one of the architectures: x64",
    ],
    [
      "grype",
      "1.0.0",
      "x64",
      "no pinned downloads of 'grype'; expected one of the tools in the table: cosign, trivy",
    ],
  ])("%s %j %s is refused", (tool, version, arch, message) => {
    expect(() => findDownload(table, tool, version, arch)).toThrow(new Error(message));
  });

  test("with an input name the error is an InputError naming it", () => {
    let caught: unknown;
    try {
      findDownload(table, "cosign", "9.9.9", "x64", "cosign-version");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).message).toBe(
      "input 'cosign-version': cosign 9.9.9 is not in the table of pinned downloads; expected one of: 2.4.1, 2.2.4",
    );
  });
});

describe("runnerArch", () => {
  test.each([
    ["x64", "x64"],
    ["arm64", "arm64"],
  ])("%s → %s", (nodeArch, expected) => {
    expect(runnerArch(nodeArch)).toBe(expected);
  });

  test("others are refused", () => {
    expect(() => runnerArch("ia32")).toThrow(
      "unsupported architecture 'ia32': pinned tools exist for x64 and arm64 only",
    );
  });
});
