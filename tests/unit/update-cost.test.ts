import { describe, expect, test } from "vitest";
import { inputsFrom } from "@frostyard/kit";
import { manifestPackages, newBuildReport, packageChanges, updateCost } from "@frostyard/mkosi";
import { predecessorTag } from "@frostyard/publish";
import { parseInputs } from "../../packages/actions/src/build-mkosi/inputs";
import { updateMarkdown, updateOutputs } from "../../packages/actions/src/build-mkosi/report";

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe("predecessorTag: the tag a new version follows", () => {
  test.each<[string[], string, string | undefined]>([
    [[], "1.0", undefined],
    [["1.0", "1.1", "latest"], "1.2", "1.1"],
    [["1.9", "1.10", "2.0"], "1.11", "1.10"],
    [["20261201090000", "20261203120000", "20261205000000"], "20261204000000", "20261203120000"],
    // Floating names and cosign's signature tags are not versions; the version itself is not its own predecessor.
    [["latest", "stable", `sha256-${"a".repeat(64)}.sig`, "1.2"], "1.2", undefined],
    [["2.0"], "1.0", undefined],
    // Per-platform tags follow their own platform; a plain version follows plain versions (an index's tag).
    [["1.0", "1.0-amd64", "1.0-arm64", "2.0-amd64"], "2.0-arm64", "1.0-arm64"],
    [["1.0-amd64", "1.0-arm64", "2.0-amd64"], "3.0-amd64", "2.0-amd64"],
    [["1.0", "1.0-amd64", "1.0-arm64"], "2.0", "1.0"],
    [["1.0-amd64"], "2.0-arm64", undefined],
  ])("%j before %s → %s", (tags, version, expected) => {
    expect(predecessorTag(tags, version)).toBe(expected);
  });
});

describe("updateCost: what a host on the previous image downloads", () => {
  const layers = [
    { digest: d("a"), size: 100, packages: ["base-files"] },
    { digest: d("b"), size: 300, packages: ["bash"] },
    { digest: d("c"), size: 600, packages: [] },
  ];
  test.each<[string, string[], number, number, number]>([
    ["the same image", [d("a"), d("b"), d("c")], 0, 0, 0],
    ["one layer changed", [d("a"), d("b"), d("9")], 600, 1, 60],
    ["nothing shared", [d("7"), d("8")], 1000, 3, 100],
  ])("%s", (_what, previousLayers, bytes, changed, percent) => {
    const cost = updateCost(
      { source: "r/os:1.0", digest: d("f"), layers: previousLayers.map((digest) => ({ digest })) },
      layers,
    );
    expect(cost).toMatchObject({
      previous: "r/os:1.0",
      previousDigest: d("f"),
      bytes,
      layers: changed,
      totalLayers: 3,
      totalBytes: 1000,
      percent,
    });
    expect(cost.changed.map((l) => l.digest)).toEqual(
      layers.filter((l) => !previousLayers.includes(l.digest)).map((l) => l.digest),
    );
  });

  test("a layer listed twice is downloaded once", () => {
    const twice = [layers[0]!, layers[0]!];
    expect(updateCost({ source: "x", digest: d("f"), layers: [] }, twice)).toMatchObject({
      bytes: 100,
      layers: 1,
      totalLayers: 2,
    });
  });
});

describe("package changes between two mkosi manifests", () => {
  const manifest = (packages: [string, string][]) =>
    JSON.stringify({
      manifest_version: 1,
      packages: packages.map(([name, version]) => ({ type: "deb", name, version, architecture: "amd64" })),
    });
  test("added, removed and upgraded, by name; unchanged ones left out", () => {
    const before = manifestPackages(
      manifest([
        ["bash", "5.2.15-2"],
        ["curl", "8.1"],
        ["vim", "2:9.1.1230-2"],
      ]),
    );
    const after = manifestPackages(
      manifest([
        ["bash", "5.2.15-2"],
        ["vim", "2:9.1.1230-3"],
        ["zsh", "5.9-4"],
      ]),
    );
    expect(packageChanges(before, after)).toEqual([
      { name: "curl", from: "8.1" },
      { name: "vim", from: "2:9.1.1230-2", to: "2:9.1.1230-3" },
      { name: "zsh", to: "5.9-4" },
    ]);
  });
});

describe("the update cost in build-mkosi's outputs and summary", () => {
  test("outputs are empty without a previous image, numbers and JSON with one", () => {
    const report = newBuildReport({ profiles: [], cache: true }, "1.1");
    expect(updateOutputs(report)).toEqual({ "update-bytes": "", "update-layers": "", update: "" });
    report.update = {
      ...updateCost({ source: "ghcr.io/acme/os:1.0", digest: d("f"), layers: [{ digest: d("a") }] }, [
        { digest: d("a"), size: 3 * 2 ** 20, packages: [] },
        { digest: d("b"), size: 2 ** 20, packages: ["vim"] },
      ]),
      packages: [{ name: "vim", from: "1", to: "2" }],
    };
    const outputs = updateOutputs(report);
    expect(outputs["update-bytes"]).toBe(String(2 ** 20));
    expect(outputs["update-layers"]).toBe("1");
    expect(JSON.parse(outputs.update)).toMatchObject({
      bytes: 2 ** 20,
      layers: 1,
      totalLayers: 2,
      percent: 25,
    });
    const markdown = updateMarkdown(report.update).join("\n\n");
    expect(markdown).toContain(
      "a host on ghcr.io/acme/os:1.0 (`sha256:ffffffffffff…`) downloads 1 MiB in 1 of 2 layers (25 % of the image)",
    );
    expect(markdown).toContain("| vim | 1 | 2 |");
  });
});

describe("previous-image input", () => {
  test.each<[string, unknown]>([
    ["", { kind: "auto" }],
    ["none", { kind: "none" }],
    [
      "ghcr.io/acme/os:1.2",
      { kind: "reference", ref: { registry: "ghcr.io", repository: "acme/os", tag: "1.2" } },
    ],
  ])("%j → %j", (raw, choice) => {
    expect(parseInputs(inputsFrom({ "previous-image": raw })).previousImage).toEqual(choice);
  });
  test.each([
    ["ghcr.io/acme/os", /input 'previous-image': 'ghcr.io\/acme\/os' names no tag or digest; expected empty/],
    ["Not A Ref!", /input 'previous-image': .*; expected empty/],
  ])("refuses %j", (raw, message) => {
    expect(() => parseInputs(inputsFrom({ "previous-image": raw }))).toThrow(message);
  });
});
