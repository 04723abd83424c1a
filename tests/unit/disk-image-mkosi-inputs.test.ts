import { describe, expect, test } from "vitest";
import { InputError } from "@frostyard/kit";
import { parseInputs } from "../../packages/actions/src/disk-image/inputs";
import { mkosiSecretValues } from "../../packages/actions/src/disk-image/mkosi";

const parse = (inputs: Record<string, string>) => parseInputs((name) => inputs[name] ?? "");

describe("disk-image inputs, builder mkosi", () => {
  test("needs no image and no builder image; the mkosi inputs parsed as build-mkosi parses them", () => {
    const parsed = parse({
      builder: "mkosi",
      directory: "images/vm",
      profiles: "devel",
      "mkosi-ref": "system",
      "secret-environment": "TOKEN=s3cr3t-value",
      "work-directory": "/mnt/work",
      types: "qcow2, raw",
      // An image given by mistake is not carried: mkosi builds from the project.
      image: "ghcr.io/acme/os:1",
    });
    expect(parsed).toMatchObject({ builder: "mkosi", types: ["qcow2", "raw"], builderImage: "" });
    expect(parsed.image).toBeUndefined();
    expect(parsed.mkosi).toMatchObject({
      directory: "images/vm",
      profiles: ["devel"],
      mkosi: { kind: "system" },
      workDirectory: "/mnt/work",
      cache: true,
    });
    expect(mkosiSecretValues(parsed.mkosi)).toEqual(["s3cr3t-value"]);
  });

  test("output-directory is where the disks go, never mkosi's output directory", () => {
    const parsed = parse({ builder: "mkosi", "output-directory": "vm-disks" });
    expect(parsed.outputDirectory).toBe("vm-disks");
    expect(parsed.mkosi?.outputDirectory).toBeUndefined();
    expect(parsed.mkosi?.directory).toBe(".");
  });

  test.each([
    ["a type mkosi does not make", { types: "anaconda-iso" }, "types", /not a type mkosi makes/],
    [
      "a builder config",
      { config: "[customizations]\nhostname = 'x'" },
      "config",
      /mkosi reads no builder config/,
    ],
    ["an unknown sudo mode", { sudo: "maybe" }, "sudo", /maybe/],
    ["a floating image version", { "image-version": "latest" }, "image-version", /latest/],
  ])("refuses %s, naming the input", (_what, inputs, input, problem) => {
    const error = (() => {
      try {
        parse({ builder: "mkosi", ...inputs });
      } catch (e) {
        return e;
      }
      throw new Error("accepted");
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(input);
    expect((error as InputError).message).toMatch(problem);
  });
});
