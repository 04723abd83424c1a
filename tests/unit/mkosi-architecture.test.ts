import { describe, expect, test } from "vitest";
import { parseArchitecture } from "@frostyard/rootfs-oci";
import { ARCHITECTURE_NAMES, mkosiArchitecture, ociArchitectureOf } from "@frostyard/mkosi";

describe("mkosi architecture names", () => {
  test.each([
    ["x86-64", "x86-64"],
    ["amd64", "x86-64"],
    ["arm64", "arm64"],
    ["386", "x86"],
    ["x86", "x86"],
    ["ppc64le", "ppc64-le"],
    ["loong64", "loongarch64"],
    ["mips64le", "mips64-le"],
    ["arm", "arm"],
    ["riscv32", "riscv32"],
    ["aarch64", undefined],
    ["x86_64", undefined],
    ["linux/amd64", undefined],
    ["arm64/v8", undefined],
    ["", undefined],
    ["toString", undefined],
  ])("mkosiArchitecture(%j) = %j", (name, expected) => {
    expect(mkosiArchitecture(name)).toBe(expected);
  });

  test.each([
    ["x86-64", "amd64", { architecture: "amd64" }],
    // The variant dpkg's arm64 gives too, so a Debian arm64 tree is declared the same either way.
    ["arm64", "arm64/v8", { architecture: "arm64", variant: "v8" }],
    ["x86", "386", { architecture: "386" }],
    ["ppc64-le", "ppc64le", { architecture: "ppc64le" }],
    ["riscv64", "riscv64", { architecture: "riscv64" }],
    ["loongarch64", "loong64", { architecture: "loong64" }],
  ])("ociArchitectureOf(%j) = %j, which the packager accepts", (mkosi, oci, platform) => {
    expect(ociArchitectureOf(mkosi)).toBe(oci);
    expect(parseArchitecture(oci)).toEqual(platform);
  });

  test.each(["arm", "ppc64", "alpha", "amd64", "constructor"])(
    "ociArchitectureOf(%j) is undefined: the packager asks dpkg",
    (mkosi) => {
      expect(ociArchitectureOf(mkosi)).toBeUndefined();
    },
  );

  test("every accepted name resolves, and each mkosi name is listed once", () => {
    expect(new Set(ARCHITECTURE_NAMES).size).toBe(ARCHITECTURE_NAMES.length);
    for (const name of ARCHITECTURE_NAMES) expect(mkosiArchitecture(name)).toBeDefined();
  });
});
