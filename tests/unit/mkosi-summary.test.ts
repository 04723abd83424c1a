import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  cacheKeys,
  cachePeriod,
  type CacheRefresh,
  checkProfiles,
  chooseEntry,
  configFilePaths,
  entryName,
  hashConfigFiles,
  mainImage,
  nameSingleManifest,
  parseSummary,
  profileFromEntry,
  profilesMatchedIn,
} from "@frostyard/mkosi";
import { repoRoot } from "../helpers/run-action";

const fixture = (name: string) => readFileSync(join(repoRoot, "tests/fixtures/shared/mkosi", name), "utf8");

/** A summary image with only the keys the parser reads; the rest of mkosi's ~200 keys do not matter. */
function image(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    Image: "main",
    Format: "directory",
    Output: "os_1.0",
    OutputDirectory: null,
    OutputExtension: "",
    Distribution: "debian",
    Release: "trixie",
    Architecture: "x86-64",
    ManifestFormat: ["json"],
    Files: ["/src/os/mkosi.conf"],
    ...overrides,
  };
}

describe("mkosi --json summary", () => {
  test("the real mkosi 25 output (fixture) gives the main image's outputs", () => {
    const images = parseSummary(fixture("summary.json"), "/src/fixture");
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({
      name: "main",
      format: "directory",
      output: "fixture_1.0",
      outputDirectory: "/src/fixture/out",
      outputPath: "/src/fixture/out/fixture_1.0",
      manifestPath: "/src/fixture/out/fixture_1.0.manifest",
      imageId: "fixture",
      imageVersion: "1.0",
      distribution: "debian",
      release: "bookworm",
      architecture: "x86-64",
      files: ["/src/fixture/mkosi.conf"],
    });
    expect(parseSummary(fixture("summary-with-tools-tree.json"), "/src/fixture")[0]?.outputPath).toBe(
      "/src/fixture/out/fixture_1.0",
    );
  });

  test("subimages come first and the main image last; relative and missing OutputDirectory resolve", () => {
    const json = JSON.stringify({
      Images: [
        image({ Image: "base", Output: "base", OutputDirectory: "mkosi.output", ManifestFormat: [] }),
        image({
          Image: null,
          Format: "sysext",
          Output: "ext_1",
          OutputExtension: "raw",
          PostInstallationScripts: ["/src/os/mkosi.postinst"],
        }),
      ],
    });
    const images = parseSummary(json, "/src/os");
    expect(images.map((i) => [i.name, i.outputPath, i.manifestPath])).toEqual([
      ["base", "/src/os/mkosi.output/base", undefined],
      ["main", "/src/os/ext_1.raw", "/src/os/ext_1.manifest"],
    ]);
    expect(mainImage(images).format).toBe("sysext");
    expect(configFilePaths(images)).toEqual(["/src/os/mkosi.conf", "/src/os/mkosi.postinst"]);
  });

  test.each([
    [
      "no Images list (mkosi < 25 printed other shapes)",
      JSON.stringify({ Output: "x" }),
      /printed no top-level 'Images' list.*older than 25/,
    ],
    [
      "image without Output",
      JSON.stringify({ Images: [{ Format: "directory" }] }),
      /gave image 0 no string 'Output'.*mkosi 25 or newer/,
    ],
    ["not JSON", "IMAGE: main", /did not print JSON/],
    ["no images", JSON.stringify({ Images: [] }), /lists no images/],
  ])("%s is refused", (_name, json, message) => {
    expect(() => parseSummary(json, "/src")).toThrow(message);
  });
});

describe("cache keys", () => {
  const images = parseSummary(JSON.stringify({ Images: [image({})] }), "/src/os");
  test.each<[string[], string, string[]]>([
    [
      [],
      "mkosi-25.3-debian-trixie-x86-64-w2026W48-default-0123456789abcdef",
      ["mkosi-25.3-debian-trixie-x86-64-w2026W48-default-", "mkosi-25.3-debian-trixie-x86-64-w2026W48-"],
    ],
    [
      ["snow", "cayo"],
      "mkosi-25.3-debian-trixie-x86-64-w2026W48-cayo+snow-0123456789abcdef",
      ["mkosi-25.3-debian-trixie-x86-64-w2026W48-cayo+snow-", "mkosi-25.3-debian-trixie-x86-64-w2026W48-"],
    ],
  ])("profiles %j", (profiles, key, restoreKeys) => {
    expect(
      cacheKeys({
        images,
        profiles,
        mkosiVersion: "25.3",
        configHash: "0123456789abcdef".repeat(4),
        period: "w2026W48",
      }),
    ).toEqual({ key, restoreKeys });
  });

  // ISO weeks: 2026-01-01 is a Thursday (week 1); 2027-01-01 is a Friday (still 2026's week 53);
  // 2024-12-30 is a Monday in 2025's week 1.
  test.each<[CacheRefresh, string, string]>([
    ["daily", "2026-11-25T23:59:59Z", "d20261125"],
    ["daily", "2026-11-26T00:00:00Z", "d20261126"],
    ["weekly", "2026-11-25T12:00:00Z", "w2026W48"],
    ["weekly", "2026-11-29T23:59:59Z", "w2026W48"],
    ["weekly", "2026-11-30T00:00:00Z", "w2026W49"],
    ["weekly", "2026-01-01T00:00:00Z", "w2026W01"],
    ["weekly", "2027-01-01T00:00:00Z", "w2026W53"],
    ["weekly", "2024-12-30T00:00:00Z", "w2025W01"],
    ["monthly", "2026-11-30T23:59:59Z", "m202611"],
    ["monthly", "2026-12-01T00:00:00Z", "m202612"],
    ["never", "2026-11-25T00:00:00Z", "forever"],
    ["never", "2031-01-01T00:00:00Z", "forever"],
  ])("cache-refresh %s at %s is period %s", (refresh, at, period) => {
    expect(cachePeriod(refresh, new Date(at))).toBe(period);
  });

  test("a new period shares no key or restore key with the last one: it starts cold", () => {
    const keysAt = (at: string) =>
      cacheKeys({
        images,
        profiles: [],
        mkosiVersion: "25.3",
        configHash: "ab".repeat(32),
        period: cachePeriod("weekly", new Date(at)),
      });
    const lastWeek = keysAt("2026-11-29T12:00:00Z");
    const thisWeek = keysAt("2026-11-30T12:00:00Z");
    for (const restoreKey of thisWeek.restoreKeys) expect(lastWeek.key.startsWith(restoreKey)).toBe(false);
    // Within the period a changed config still restores warm through the restore keys.
    const changed = cacheKeys({
      images,
      profiles: [],
      mkosiVersion: "25.3",
      configHash: "cd".repeat(32),
      period: cachePeriod("weekly", new Date("2026-11-30T18:00:00Z")),
    });
    expect(changed.key).not.toBe(thisWeek.key);
    expect(thisWeek.key.startsWith(changed.restoreKeys[0]!)).toBe(true);
  });

  test("the config hash follows content and relative paths, not order or checkout location", () => {
    const a = hashConfigFiles("/src/os", [
      { path: "/src/os/mkosi.conf", content: "[Content]\nPackages=vim\n" },
      { path: "/src/os/mkosi.postinst", content: "#!/bin/sh\n" },
    ]);
    const reordered = hashConfigFiles("/other/checkout", [
      { path: "/other/checkout/mkosi.postinst", content: "#!/bin/sh\n" },
      { path: "/other/checkout/mkosi.conf", content: "[Content]\nPackages=vim\n" },
    ]);
    const changed = hashConfigFiles("/src/os", [
      { path: "/src/os/mkosi.conf", content: "[Content]\nPackages=vim-tiny\n" },
      { path: "/src/os/mkosi.postinst", content: "#!/bin/sh\n" },
    ]);
    const moved = hashConfigFiles("/src/os", [
      { path: "/src/os/mkosi.conf.d/a.conf", content: "[Content]\nPackages=vim\n" },
      { path: "/src/os/mkosi.postinst", content: "#!/bin/sh\n" },
    ]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(reordered).toBe(a);
    expect(changed).not.toBe(a);
    expect(moved).not.toBe(a);
  });

  test.each<[string, string[], { key: string; savedAt: number }[], string | undefined]>([
    [
      "exact key",
      ["k-"],
      [
        { key: "k-1", savedAt: 1 },
        { key: "k-2", savedAt: 5 },
      ],
      "k-1",
    ],
    [
      "newest by restore key",
      ["k-"],
      [
        { key: "k-2", savedAt: 5 },
        { key: "k-3", savedAt: 9 },
      ],
      "k-3",
    ],
    [
      "restore keys in order",
      ["k-a-", "k-"],
      [
        { key: "k-b-1", savedAt: 9 },
        { key: "k-a-0", savedAt: 1 },
      ],
      "k-a-0",
    ],
    ["nothing matches", ["x-"], [{ key: "k-2", savedAt: 5 }], undefined],
  ])("local cache choice: %s", (_name, restoreKeys, entries, expected) => {
    expect(chooseEntry("k-1", restoreKeys, entries)).toBe(expected);
  });

  test("entry names are reversible-safe file names", () => {
    expect(entryName("mkosi-25.3-debian-trixie-x86-64-a+b-0f")).toBe(
      "mkosi-25.3-debian-trixie-x86-64-a%2bb-0f",
    );
    expect(entryName("../x")).toBe("..%2fx");
  });
});

describe("profiles", () => {
  test.each<[string, boolean, string | undefined]>([
    ["snow", true, "snow"],
    ["cayo.conf", false, "cayo"],
    ["README", false, undefined],
    [".conf", false, undefined],
  ])("mkosi.profiles entry %s (dir: %s)", (name, dir, expected) => {
    expect(profileFromEntry(name, dir)).toBe(expected);
  });

  test("[Match] Profiles= names count, other sections do not", () => {
    const text =
      "[Match]\nProfiles=desktop,!server\n\n[Content]\nProfiles=ignored\n[TriggerMatch]\nProfile=legacy\n";
    expect(profilesMatchedIn(text)).toEqual(["desktop", "server", "legacy"]);
  });

  test("unknown profiles are refused listing the known ones", () => {
    expect(() => checkProfiles(["snow", "nope"], new Set(["snow", "cayo"]))).toThrow(
      "input 'profiles': unknown profile(s) 'nope'; expected one of the project's profiles: cayo, snow",
    );
    expect(() => checkProfiles(["x"], new Set())).toThrow(/the project defines none/);
    expect(() => checkProfiles(["cayo"], new Set(["cayo"]))).not.toThrow();
  });
});

describe("mkosi's Format=oci layout", () => {
  const index = (manifests: unknown[]) =>
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests });
  const manifest = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: "sha256:ab",
    size: 519,
  };

  test("its one manifest gets the image version as ref name; everything else is kept", () => {
    const { text, manifest: found } = nameSingleManifest(index([manifest]), "1.0", "/out/os_1.0");
    expect(found).toEqual({ digest: "sha256:ab", size: 519 });
    expect(JSON.parse(text)).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": "1.0" } }],
    });
    // Naming twice with the same version is harmless (a re-run of the push).
    expect(nameSingleManifest(text, "1.0", "/out/os_1.0").text).toBe(text);
  });

  test.each<[string, string, RegExp]>([
    [
      "two manifests",
      index([manifest, manifest]),
      /lists 2 manifests; mkosi's Format=oci output has exactly one/,
    ],
    ["no digest", index([{ size: 1 }]), /its manifest has no digest and size/],
    [
      "named otherwise",
      index([{ ...manifest, annotations: { "org.opencontainers.image.ref.name": "latest" } }]),
      /names its manifest 'latest', not the image version '1.0'/,
    ],
    ["not JSON", "{", /index.json is not JSON/],
  ])("%s is refused", (_name, text, message) => {
    expect(() => nameSingleManifest(text, "1.0", "/out/os_1.0")).toThrow(message);
  });
});
