import { describe, expect, test } from "vitest";
import { consoleLogger } from "@frostyard/kit";
import {
  createdFromEpoch,
  imageConfig,
  imageManifest,
  layerHistoryText,
  parseArchitecture,
  standardLabels,
  tarArgs,
  tarFileList,
  validatePackageOptions,
  type LayerPlan,
  type PackageOptions,
} from "@frostyard/rootfs-oci";

describe("standardLabels", () => {
  test.each([
    [{}, {}],
    [
      {
        title: "snow",
        version: "20240101",
        revision: "abc",
        source: "https://x/y",
        url: "https://x",
        created: "2024-01-01T00:00:00Z",
        description: "d",
      },
      {
        "org.opencontainers.image.title": "snow",
        "org.opencontainers.image.version": "20240101",
        "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
        "org.opencontainers.image.revision": "abc",
        "org.opencontainers.image.source": "https://x/y",
        "org.opencontainers.image.url": "https://x",
        "org.opencontainers.image.description": "d",
      },
    ],
    [{ title: "", version: "1" }, { "org.opencontainers.image.version": "1" }],
  ])("%j", (info, want) => {
    expect(standardLabels(info)).toEqual(want);
  });
});

describe("createdFromEpoch", () => {
  test.each([
    [0, "1970-01-01T00:00:00Z"],
    [1700000000, "2023-11-14T22:13:20Z"],
  ])("%i → %s", (epoch, want) => {
    expect(createdFromEpoch(epoch)).toBe(want);
  });
});

describe("tarArgs", () => {
  const args = tarArgs({ rootfs: "/r", listFile: "/l", output: "/o.tar", sourceDateEpoch: 42 });
  test.each([
    ["--format=posix"],
    ["--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"],
    ["--numeric-owner"],
    ["--xattrs"],
    ["--xattrs-include=*"],
    ["--mtime=@42"],
    ["--clamp-mtime"],
    ["--directory=/r"],
    ["--file=/o.tar"],
  ])("has %s", (flag) => {
    expect(args).toContain(flag);
  });
  test("reads the NUL-separated list verbatim, without recursion: options come before --files-from", () => {
    const at = (flag: string) => args.indexOf(flag);
    expect(at("--files-from=/l")).toBe(args.length - 1);
    for (const flag of ["--no-recursion", "--null", "--verbatim-files-from"]) {
      expect(at(flag)).toBeGreaterThan(-1);
      expect(at(flag)).toBeLessThan(at("--files-from=/l"));
    }
  });
  test("list: each name NUL-terminated, newlines and leading dashes kept", () => {
    expect(tarFileList(["a", "-b", "c\nd"]).toString()).toBe("a\0-b\0c\nd\0");
  });
});

describe("parseArchitecture", () => {
  test.each([
    ["amd64", { architecture: "amd64" }],
    ["arm/v7", { architecture: "arm", variant: "v7" }],
    ["arm64", { architecture: "arm64" }],
    ["armhf", { architecture: "arm", variant: "v7" }],
    ["ppc64el", { architecture: "ppc64le" }],
  ])("%s", (value, want) => {
    expect(parseArchitecture(value)).toEqual(want);
  });
  test.each(["x86_64", "amd64/", "arm/v7/x", ""])(
    "refuses %j, naming the option and the accepted values",
    (value) => {
      expect(() => parseArchitecture(value)).toThrow(
        /packaging option architecture: .*expected an OCI architecture \(amd64, arm64/,
      );
    },
  );
});

describe("validatePackageOptions", () => {
  const base: PackageOptions = {
    rootfs: "/r",
    layout: "/l",
    refName: "1.0",
    sourceDateEpoch: 0,
    logger: consoleLogger,
  };
  test.each([
    [{ maxLayers: 0 }, /packaging option maxLayers: got 0; expected a whole number from 1 to 128/],
    [{ maxLayers: 129 }, /packaging option maxLayers: got 129/],
    [{ maxLayers: 2.5 }, /packaging option maxLayers: got 2.5/],
    [{ compression: "xz" as "gzip" }, /packaging option compression: got "xz"; expected gzip or zstd/],
    [{ sourceDateEpoch: -1 }, /packaging option sourceDateEpoch: got -1/],
    [{ sourceDateEpoch: 1.5 }, /packaging option sourceDateEpoch/],
    [{ refName: "has space" }, /packaging option refName: "has space" is not a valid OCI layout ref name/],
    [{ labels: { "": "x" } }, /packaging option labels: key ""/],
    [{ annotations: { "a b": "x" } }, /packaging option annotations: key "a b"/],
  ])("%j", (override, message) => {
    expect(() => validatePackageOptions({ ...base, ...override })).toThrow(message);
  });
  test("defaults", () => {
    expect(validatePackageOptions(base)).toEqual({ maxLayers: 64, compression: "gzip" });
  });
});

describe("imageConfig and imageManifest", () => {
  const plan = (kind: LayerPlan["kind"], packages: string[], bin?: number): LayerPlan => ({
    kind,
    packages,
    paths: ["a", "b"],
    size: 1,
    ...(bin !== undefined ? { bin } : {}),
  });
  test("labels sorted, bootc label when bootable, one history entry per layer", () => {
    const config = imageConfig({
      architecture: "arm",
      variant: "v7",
      sourceDateEpoch: 0,
      labels: { z: "1", a: "2" },
      bootable: true,
      layers: [
        { plan: plan("skeleton", []), diffId: "sha256:" + "1".repeat(64) },
        { plan: plan("bin", ["x", "y"], 3), diffId: "sha256:" + "2".repeat(64) },
      ],
    });
    expect(JSON.stringify(config)).toBe(
      JSON.stringify({
        created: "1970-01-01T00:00:00Z",
        architecture: "arm",
        variant: "v7",
        os: "linux",
        config: { Labels: { a: "2", "containers.bootc": "1", z: "1" } },
        rootfs: { type: "layers", diff_ids: ["sha256:" + "1".repeat(64), "sha256:" + "2".repeat(64)] },
        history: [
          { created: "1970-01-01T00:00:00Z", created_by: "rootfs-oci: directories (2)" },
          { created: "1970-01-01T00:00:00Z", created_by: "rootfs-oci: bin 3 (2 packages)" },
        ],
      }),
    );
  });
  test("no Labels and no bootc label when neither is asked for", () => {
    const config = imageConfig({
      architecture: "amd64",
      sourceDateEpoch: 0,
      labels: {},
      bootable: false,
      layers: [],
    });
    expect(config.config).toEqual({});
  });
  test.each([
    [plan("all", []), "rootfs-oci: the whole rootfs (2 paths)"],
    [plan("package", ["linux-image"]), "rootfs-oci: package linux-image"],
    [plan("unowned", []), "rootfs-oci: files no package owns (2)"],
  ])("history text %#", (layer, want) => {
    expect(layerHistoryText(layer)).toBe(want);
  });
  test("manifest: annotations sorted and left out when empty", () => {
    const config = { mediaType: "x", digest: "sha256:" + "a".repeat(64), size: 5 };
    const layer = {
      mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
      digest: "sha256:" + "b".repeat(64),
      size: 9,
    };
    expect(JSON.stringify(imageManifest({ config, layers: [layer], annotations: { b: "1", a: "2" } }))).toBe(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: 5 },
        layers: [layer],
        annotations: { a: "2", b: "1" },
      }),
    );
    expect(imageManifest({ config, layers: [], annotations: {} })).not.toHaveProperty("annotations");
  });
});
