import { describe, expect, test } from "vitest";
import { InputError } from "@frostyard/kit";
import { KeyPackageError, SysextNameError, SysextSelectionError } from "@frostyard/sysext";
import { asSysextInputError } from "../../packages/actions/src/build-sysext/errors";
import { parseInputs } from "../../packages/actions/src/build-sysext/inputs";

const parse = (inputs: Record<string, string>) => parseInputs((name) => inputs[name] ?? "");

describe("build-sysext inputs", () => {
  test("empty inputs: every extension, no sysupdate files, upload on", () => {
    const parsed = parse({});
    expect(parsed).toMatchObject({
      images: [],
      requiredPaths: [],
      compression: "none",
      upload: true,
      artifactName: "sysext",
    });
    expect(parsed.sysupdate).toBeUndefined();
    expect(parsed.build).toMatchObject({
      directory: ".",
      profiles: [],
      sudo: "auto",
      cache: true,
      cacheRefresh: "weekly",
    });
  });

  test("the shared build inputs parse as build-mkosi parses them; its own inputs are not this action's", () => {
    const parsed = parse({
      directory: "sysexts",
      profiles: "extra,devel",
      "image-version": "1.2",
      "mkosi-ref": "system",
      "secret-environment": "TOKEN=s3cret",
      // build-mkosi's compression takes gzip|zstd; this action's is none|zstd|xz and must not reach that parser.
      compression: "xz",
    });
    expect(parsed.build).toMatchObject({
      directory: "sysexts",
      profiles: ["extra", "devel"],
      imageVersion: "1.2",
    });
    expect(parsed.build.mkosi).toEqual({ kind: "system" });
    expect(parsed.compression).toBe("xz");
  });

  test("a base URL turns on the sysupdate files with their defaults", () => {
    expect(parse({ "base-url": "https://ext.example/sysext/", "instances-max": "3" }).sysupdate).toEqual({
      baseUrl: "https://ext.example/sysext",
      targetPath: "/var/lib/extensions.d",
      symlinkDirectory: "/var/lib/extensions",
      instancesMax: 3,
      featuresEnabled: false,
    });
  });

  test.each<[Record<string, string>, string, RegExp]>([
    [{ "base-url": "ftp://x/y" }, "base-url", /uses ftp:/],
    [{ "base-url": "not a url" }, "base-url", /is not a URL/],
    [{ "base-url": "https://x", "target-path": "var/lib" }, "target-path", /not an absolute path/],
    [{ "base-url": "https://x", "instances-max": "1" }, "instances-max", /./],
    [{ images: "vim,bad_name" }, "images", /'bad_name' is not an image name/],
    [{ revision: "a_b" }, "revision", /cannot go in a file name/],
    [{ "key-package": "Docker CE" }, "key-package", /not a package name/],
    [{ compression: "gzip" }, "compression", /./],
    [{ upload: "yes" }, "upload", /./],
    [{ "image-version": "latest" }, "image-version", /./],
    [{ "artifact-name": "a/b" }, "artifact-name", /refuse/],
  ])("%j → InputError naming %s", (inputs, input, message) => {
    let error: unknown;
    try {
      parse(inputs);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(input);
    expect((error as Error).message).toMatch(message);
  });

  test.each<[unknown, boolean, string | undefined]>([
    [new SysextSelectionError("images", "'x' is not a Format=sysext image"), false, "images"],
    [new SysextSelectionError("base", "no base"), false, "base"],
    [new SysextSelectionError("directory", "no sysext images"), false, "directory"],
    [new KeyPackageError("docker-ce", "is not in x"), true, "key-package"],
    [new KeyPackageError("docker-ce", "is not in x"), false, undefined],
    [new SysextNameError("revision", "a b", "bad"), false, "revision"],
    [new SysextNameError("version", "a_b", "bad"), false, undefined],
  ])("library error %s (key-package input %s) → input %s", (error, keyPackageInput, input) => {
    const mapped = asSysextInputError(error, keyPackageInput);
    if (input) expect((mapped as InputError).input).toBe(input);
    else expect(mapped).toBe(error);
  });
});
