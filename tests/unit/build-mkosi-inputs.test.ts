import { describe, expect, test } from "vitest";
import { inputsFrom, Timings } from "@frostyard/kit";
import type { MkosiImage } from "@frostyard/mkosi";
import { parseInputs, secretValues, splitArgs } from "../../packages/actions/src/build-mkosi/inputs";
import {
  cacheOutcome,
  summaryMarkdown,
  type BuildReport,
} from "../../packages/actions/src/build-mkosi/report";

describe("build-mkosi inputs", () => {
  test("defaults", () => {
    const inputs = parseInputs(inputsFrom({}));
    expect(inputs).toMatchObject({
      directory: ".",
      profiles: [],
      variables: [],
      args: [],
      sudo: "auto",
      mkosi: { kind: "commit", commit: "54c625c380ef5500f17460981a3c67b109b6a847", version: "25.3" },
      cache: true,
      cacheRefresh: "weekly",
      tags: [],
      push: false,
      bootable: true,
      maxLayers: 64,
      compression: "gzip",
      overwriteVersion: false,
      explicitPackagingInputs: [],
    });
    expect(inputs.imageVersion).toBeUndefined();
    expect(inputs.image).toBeUndefined();
    expect(inputs.architecture).toBeUndefined();
  });

  test.each([
    ["x86-64", "x86-64"],
    ["amd64", "x86-64"],
    ["arm64", "arm64"],
    ["386", "x86"],
    ["ppc64le", "ppc64-le"],
    ["loong64", "loongarch64"],
    ["arm", "arm"],
  ])("architecture %s reaches mkosi as --architecture=%s", (value, mkosi) => {
    expect(parseInputs(inputsFrom({ architecture: value })).architecture).toBe(mkosi);
  });

  test("everything set", () => {
    const inputs = parseInputs(
      inputsFrom({
        directory: "os",
        profiles: "snow, cayo",
        "image-version": "2026.1",
        environment: "MODE=fast\n# comment\nLEVEL=3",
        "secret-environment": "TOKEN=abc=def",
        args: `--debug --kernel-command-line="quiet splash"`,
        sudo: "false",
        "mkosi-ref": "f".repeat(40),
        "mkosi-sha256": "e".repeat(64),
        cache: "false",
        "cache-refresh": "daily",
        "overwrite-version": "true",
        image: "ghcr.io/acme/os",
        tags: "latest-candidate",
        push: "true",
        labels: "org.example.team=os",
        "max-layers": "100",
        compression: "zstd",
        "source-date-epoch": "1735689600",
        "registry-username": "u",
        "registry-password": "p@ss",
      }),
    );
    expect(inputs).toMatchObject({
      directory: "os",
      profiles: ["snow", "cayo"],
      imageVersion: "2026.1",
      args: ["--debug", "--kernel-command-line=quiet splash"],
      sudo: "false",
      mkosi: { kind: "commit", commit: "f".repeat(40), sha256: "e".repeat(64) },
      cache: false,
      cacheRefresh: "daily",
      overwriteVersion: true,
      explicitPackagingInputs: ["max-layers", "compression"],
      image: { registry: "ghcr.io", repository: "acme/os" },
      tags: ["latest-candidate"],
      push: true,
      maxLayers: 100,
      compression: "zstd",
      sourceDateEpoch: 1735689600,
    });
    expect(inputs.variables).toEqual([
      { name: "MODE", value: "fast", secret: false },
      { name: "LEVEL", value: "3", secret: false },
      { name: "TOKEN", value: "abc=def", secret: true },
    ]);
    expect(Object.fromEntries(inputs.labels)).toEqual({ "org.example.team": "os" });
    expect(secretValues(inputs)).toEqual(["abc=def", "p@ss"]);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ["push without image", { push: "true" }, /input 'push': is true but 'image' is empty/],
    [
      "image with tag",
      { image: "ghcr.io/acme/os:1" },
      /input 'image': 'ghcr.io\/acme\/os:1' names a tag or digest/,
    ],
    ["malformed image", { image: "ghcr.io/Acme/OS" }, /input 'image': invalid image reference/],
    ["bad tag", { tags: "ok,not ok" }, /input 'tags': 'not ok' is not a valid tag/],
    [
      "half the credentials",
      { "registry-username": "u" },
      /input 'registry-password': is empty while its partner is set/,
    ],
    ["sudo value", { sudo: "yes" }, /input 'sudo': got 'yes'; expected one of: auto, true, false/],
    ["max-layers too big", { "max-layers": "129" }, /input 'max-layers'/],
    ["compression", { compression: "xz" }, /input 'compression': got 'xz'; expected one of: gzip, zstd/],
    ["epoch", { "source-date-epoch": "yesterday" }, /input 'source-date-epoch': got 'yesterday'/],
    ["mkosi branch", { "mkosi-ref": "main" }, /input 'mkosi-ref': 'main' is not a full commit id/],
    ["verb in args", { args: "--debug build" }, /input 'args': 'build' is an mkosi verb/],
    [
      "a platform for an architecture",
      { architecture: "linux/arm64" },
      /input 'architecture': 'linux\/arm64' is not an architecture mkosi knows; expected empty .*, or one of x86-64, arm64, .*, amd64, 386, ppc64le, loong64, mips64le/,
    ],
    ["an unknown architecture", { architecture: "aarch64" }, /input 'architecture': 'aarch64' is not/],
    ["unclosed quote", { args: `--foo="bar` }, /input 'args': has an unclosed " quote/],
    [
      "cache-refresh",
      { "cache-refresh": "hourly" },
      /input 'cache-refresh': got 'hourly'; expected one of: daily, weekly, monthly, never/,
    ],
    [
      "floating image version",
      { "image-version": "latest" },
      /input 'image-version': 'latest' is a floating tag name/,
    ],
    [
      "image version",
      { "image-version": "1.0 beta" },
      /input 'image-version': '1.0 beta' cannot be an image tag/,
    ],
  ])("%s is refused", (_name, values, message) => {
    expect(() => parseInputs(inputsFrom(values))).toThrow(message);
  });

  test("a refused secret line is reported by number, never echoed", () => {
    let message = "";
    try {
      parseInputs(inputsFrom({ "secret-environment": "TOKEN=1\nhunter2-no-equals" }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/input 'secret-environment': line 2 has no '='/);
    expect(message).not.toContain("hunter2");
  });

  test.each<[string, string[]]>([
    ["", []],
    ["  --debug  ", ["--debug"]],
    [`-a 'b c' "d'e" f""`, ["-a", "b c", "d'e", "f"]],
    [`--x=""`, ["--x="]],
    [`''`, [""]],
  ])("splitArgs(%j)", (raw, expected) => {
    expect(splitArgs(raw)).toEqual(expected);
  });
});

describe("build-mkosi summary", () => {
  const image: MkosiImage = {
    name: "main",
    format: "directory",
    output: "os_1.0",
    outputDirectory: "/mnt/o",
    outputPath: "/mnt/o/os_1.0",
    distribution: "debian",
    release: "trixie",
    architecture: "x86-64",
    incremental: "yes",
    files: [],
    scripts: [],
    profiles: [],
  };

  test.each([
    ["k", undefined, "miss"],
    ["k", "k", "hit"],
    ["k", "k-old", "partial"],
  ] as const)("cacheOutcome(%s, %s) = %s", (key, restored, outcome) => {
    expect(cacheOutcome(key, restored)).toBe(outcome);
  });

  test("a pushed build: image, cache, free space, sizes, layers and stages", async () => {
    const timings = new Timings(() => 0);
    await timings.time("mkosi build", async () => {});
    const report: BuildReport = {
      mkosiVersion: "25.3",
      profiles: ["devel"],
      imageVersion: "1.0",
      images: [image],
      sizes: new Map([["/mnt/o/os_1.0", 100 * 2 ** 20]]),
      cache: {
        enabled: true,
        outcome: "partial",
        key: "k-new",
        restoredKey: "k-old",
        restoredBytes: 5 * 2 ** 20,
      },
      freeBefore: 70 * 2 ** 30,
      freeAfter: 69 * 2 ** 30,
      workVolume: "/mnt/frostyard-mkosi",
      layers: [
        { digest: "sha256:a", size: 2 ** 20, packages: ["bash"] },
        { digest: "sha256:b", size: 2 ** 20, packages: [] },
      ],
      digest: "sha256:d",
      timings,
    };
    const markdown = summaryMarkdown(report, {
      repository: "ghcr.io/acme/os",
      digest: "sha256:d",
      image: "ghcr.io/acme/os@sha256:d",
      tags: ["1.0"],
      uploadedBytes: 2 ** 21,
      skippedBlobs: 1,
    });
    expect(markdown).toContain("## build-mkosi 1.0");
    expect(markdown).toContain("| cache | partial: restored `k-old` for `k-new`, 5 MiB |");
    expect(markdown).toContain("| free space | /mnt/frostyard-mkosi: 70 GiB before, 69 GiB after |");
    expect(markdown).toContain("| pushed | `ghcr.io/acme/os@sha256:d` as `1.0` |");
    expect(markdown).toContain("| main | directory | debian trixie x86-64 | `/mnt/o/os_1.0` | 100 MiB |");
    expect(markdown).toContain("### Layers: 2, 2 MiB");
    expect(markdown).toContain("| mkosi build | 0 ms |");
  });

  test("a failed build says so first and keeps what is known", () => {
    const markdown = summaryMarkdown({
      mkosiVersion: "25.3",
      profiles: [],
      imageVersion: "1.0",
      images: [],
      sizes: new Map(),
      cache: { enabled: false },
      timings: new Timings(),
      failed: "mkosi build exited with code 1; its last lines:\n‣ boom",
    });
    expect(markdown.split("\n").slice(0, 3)).toEqual([
      "## build-mkosi failed",
      "",
      "**Failed:** mkosi build exited with code 1; its last lines:",
    ]);
    expect(markdown).toContain("| cache | off (`cache: false`) |");
    expect(markdown).toContain("| profiles | (none) |");
  });
});
