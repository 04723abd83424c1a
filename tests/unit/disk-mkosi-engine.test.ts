import { describe, expect, test } from "vitest";
import { diskImageOf, missingDiskProblem, MkosiDiskProjectError } from "@frostyard/disk";
import type { MkosiImage } from "@frostyard/mkosi";

const image = (name: string, format: string): MkosiImage =>
  ({
    name,
    format,
    output: `${name}_1.0`,
    outputDirectory: "/w/output",
    outputPath: `/w/output/${name}_1.0${format === "disk" ? ".raw" : ""}`,
  }) as MkosiImage;

describe("diskImageOf: the image whose disk is converted", () => {
  test.each([
    ["a disk alone", [image("main", "disk")], "main"],
    ["a disk after a base tree and an initrd", [image("base", "directory"), image("main", "disk")], "main"],
  ])("%s → %s", (_what, images, name) => {
    expect(diskImageOf(images).name).toBe(name);
  });

  test.each([
    ["a directory image", [image("main", "directory")], "Format=directory"],
    ["a top level that builds only subimages", [image("vm", "disk"), image("main", "none")], "Format=none"],
    ["an OCI image", [image("main", "oci")], "Format=oci"],
  ])("refuses %s, naming the setting", (_what, images, format) => {
    expect(() => diskImageOf(images)).toThrow(MkosiDiskProjectError);
    expect(() => diskImageOf(images)).toThrow(`'main' with ${format}`);
    expect(() => diskImageOf(images)).toThrow("set Format=disk in its [Output] section");
  });

  test("no images at all", () => {
    expect(() => diskImageOf([])).toThrow("lists no images");
  });
});

describe("missingDiskProblem: why mkosi's raw disk is not where its summary said", () => {
  test.each([
    [
      "CompressOutput=zstd",
      ["os_1.0.raw.zst", "os_1.0.efi"],
      /mkosi wrote os_1\.0\.raw\.zst, a compressed disk qemu-img cannot convert: remove CompressOutput=/,
    ],
    ["CompressOutput=xz", ["os_1.0.raw.xz"], /os_1\.0\.raw\.xz, a compressed disk/],
    [
      "something else of that name",
      ["os_1.0.raw.tmp"],
      /mkosi wrote no os_1\.0\.raw in \/w\/output \(found os_1\.0\.raw\.tmp\)/,
    ],
    ["nothing", [], /^mkosi wrote no os_1\.0\.raw in \/w\/output$/],
  ])("%s", (_what, siblings, message) => {
    expect(missingDiskProblem("/w/output/os_1.0.raw", siblings)).toMatch(message);
  });
});
