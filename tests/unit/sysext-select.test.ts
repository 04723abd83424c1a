import { describe, expect, test } from "vitest";
import type { MkosiImage } from "@frostyard/mkosi";
import { selectBase, selectSysextImages, SysextSelectionError } from "@frostyard/sysext";

const image = (name: string, format: string): MkosiImage => ({
  name,
  format,
  output: name,
  outputDirectory: "/o",
  outputPath: `/o/${name}`,
  distribution: "debian",
  release: "trixie",
  architecture: "x86-64",
  incremental: "yes",
  files: [],
  scripts: [],
  profiles: [],
});
const PLAN = [
  image("base", "directory"),
  image("tools", "sysext"),
  image("vim", "sysext"),
  image("main", "none"),
];

describe("which images build-sysext publishes", () => {
  test.each<[string[], string[]]>([
    [[], ["tools", "vim"]],
    [["vim"], ["vim"]],
    [
      ["vim", "tools"],
      ["tools", "vim"],
    ],
  ])("images %j → %j", (wanted, names) => {
    expect(selectSysextImages(PLAN, wanted).map((i) => i.name)).toEqual(names);
  });

  test.each<[MkosiImage[], string[], RegExp]>([
    [
      PLAN,
      ["vim", "docker", "base"],
      /^'docker', 'base' are not a Format=sysext image of this build; the sysext images are: tools, vim$/,
    ],
    [
      [image("base", "directory"), image("main", "none")],
      [],
      /builds no Format=sysext image \(images: base \(directory\), main \(none\)\)/,
    ],
  ])("refused: %#", (images, wanted, message) => {
    expect(() => selectSysextImages(images, wanted)).toThrow(SysextSelectionError);
    expect(() => selectSysextImages(images, wanted)).toThrow(
      expect.objectContaining({ field: wanted.length > 0 ? "images" : "directory" }),
    );
    expect(() => selectSysextImages(images, wanted)).toThrow(message);
  });

  test("the base: the one directory image, or the one named", () => {
    expect(selectBase(PLAN, undefined).name).toBe("base");
    expect(selectBase(PLAN, "base").name).toBe("base");
    expect(() => selectBase(PLAN, "vim")).toThrow(
      "'vim' is not a Format=directory image of this build; directory images: base",
    );
    expect(() => selectBase([...PLAN, image("other", "directory")], undefined)).toThrow(
      /2 Format=directory images \(base, other\); name the base/,
    );
    expect(() => selectBase([image("vim", "sysext")], undefined)).toThrow(/no Format=directory image/);
  });
});
