import { describe, expect, test } from "vitest";
import {
  buildArgv,
  manifestFormatToAdd,
  parseSummary,
  projectSetsCacheDirectory,
  resolveSourceDateEpoch,
  withJsonManifest,
  type SourceDateEpochInput,
} from "@frostyard/mkosi";
import { cacheOutput, savedCacheMarkdown } from "../../packages/actions/src/build-mkosi/report";

const NOW = new Date("2026-11-25T12:00:00Z");
const NOW_EPOCH = Math.floor(NOW.getTime() / 1000);

describe("SOURCE_DATE_EPOCH", () => {
  test.each<[string, Omit<SourceDateEpochInput, "now">, number, string, RegExp[]]>([
    ["the input wins", { given: 5, fromEnvironment: "7", commitTime: "9" }, 5, "input", []],
    ["then the environment", { fromEnvironment: "7", commitTime: "9" }, 7, "environment", []],
    ["then the commit time", { commitTime: "9\n" }, 9, "commit", []],
    [
      "an invalid environment value is warned about by name, then the commit time",
      { fromEnvironment: "yesterday", commitTime: "9" },
      9,
      "commit",
      [/^SOURCE_DATE_EPOCH="yesterday" in the environment is not seconds since 1970-01-01 UTC; ignoring it$/],
    ],
    [
      "nothing at all: now, warned as not reproducible",
      { fromEnvironment: "", commitTime: "" },
      NOW_EPOCH,
      "now",
      [/using now \(\d+\), so the image will not be reproducible/],
    ],
    [
      "invalid environment and no commit: both warnings",
      { fromEnvironment: "-1" },
      NOW_EPOCH,
      "now",
      [/SOURCE_DATE_EPOCH="-1"/, /will not be reproducible/],
    ],
  ])("%s", (_name, input, epoch, source, warnings) => {
    const resolved = resolveSourceDateEpoch({ ...input, now: NOW });
    expect(resolved.epoch).toBe(epoch);
    expect(resolved.source).toBe(source);
    expect(resolved.warnings).toHaveLength(warnings.length);
    warnings.forEach((pattern, i) => expect(resolved.warnings[i]).toMatch(pattern));
  });
});

describe("project settings the action defers to", () => {
  test.each<[string, string[], boolean]>([
    ["no config sets it", ["[Build]\nIncremental=yes\n"], false],
    [
      "set in [Build]",
      ["[Distribution]\nDistribution=debian\n", "[Build]\nCacheDirectory=/var/cache/os\n"],
      true,
    ],
    ["indented", ["[Build]\n  CacheDirectory = cache\n"], true],
    ["emptied (resets to the default)", ["[Build]\nCacheDirectory=\n"], false],
    ["commented out", ["[Build]\n# CacheDirectory=/x\n"], false],
    ["another key ending the same way", ["[Build]\nPackageCacheDirectory=/x\n"], false],
  ])("CacheDirectory=: %s", (_name, contents, sets) => {
    expect(projectSetsCacheDirectory(contents)).toBe(sets);
  });

  const summary = (manifestFormat: string[]) =>
    parseSummary(
      JSON.stringify({
        Images: [
          {
            Output: "os_1.0",
            Format: "directory",
            OutputDirectory: "/out",
            Distribution: "debian",
            Release: "trixie",
            Architecture: "x86-64",
            ManifestFormat: manifestFormat,
          },
        ],
      }),
      "/src/os",
    );

  test.each<[string[], "json" | undefined]>([
    [[], "json"],
    [["json"], undefined],
    [["changelog"], undefined],
  ])("ManifestFormat=%j → add %s", (formats, add) => {
    const images = summary(formats);
    expect(manifestFormatToAdd(images[0]!)).toBe(add);
  });

  test("with --manifest-format=json each image's manifest path is known and the build asks for it", () => {
    const [image] = withJsonManifest(summary([]));
    expect(image?.manifestPath).toBe("/out/os_1.0.manifest");
    expect(
      buildArgv({
        directory: "/src/os",
        profiles: [],
        imageVersion: "1.0",
        environmentNames: [],
        manifestFormat: "json",
        extraArgs: ["--debug"],
      }),
    ).toEqual([
      "--directory",
      "/src/os",
      "--image-version=1.0",
      "--manifest-format=json",
      "--debug",
      "--force",
      "build",
    ]);
  });
});

describe("post step summary", () => {
  test.each<[Parameters<typeof savedCacheMarkdown>, string]>([
    [["k1", "saved", 3 * 2 ** 20], "**Cache saved** (post step): `k1`, 3 MiB"],
    [["k1", "hit", undefined], "**Cache** (post step): `k1` was restored exactly; nothing to save"],
    [
      ["k1", "empty", undefined],
      "**Cache** (post step): mkosi's cache directory was empty; nothing saved for `k1`",
    ],
  ])("%j", (args, markdown) => {
    expect(savedCacheMarkdown(...args)).toBe(markdown);
  });
});

describe("cache output", () => {
  test.each<[Parameters<typeof cacheOutput>[0], string]>([
    [{ enabled: false }, "off"],
    [{ enabled: true }, "miss"],
    [{ enabled: true, outcome: "miss" }, "miss"],
    [{ enabled: true, outcome: "partial" }, "partial"],
    [{ enabled: true, outcome: "hit" }, "hit"],
  ])("%j → %s", (cache, output) => {
    expect(cacheOutput(cache)).toBe(output);
  });
});
