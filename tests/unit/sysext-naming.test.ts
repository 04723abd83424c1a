import { describe, expect, test } from "vitest";
import {
  fileVersion,
  matchPattern,
  parseSysextFileName,
  stableFileName,
  SysextNameError,
  sysextFileName,
  systemdArchitecture,
  versionField,
} from "@frostyard/sysext";

describe("architecture names as systemd spells them", () => {
  test.each([
    ["x86-64", "x86-64"],
    ["amd64", "x86-64"],
    ["x86_64", "x86-64"],
    ["aarch64", "arm64"],
    ["arm64", "arm64"],
    ["ppc64el", "ppc64-le"],
    ["loong64", "loongarch64"],
    ["AMD64", "x86-64"],
  ])("%s → %s", (given, systemd) => {
    expect(systemdArchitecture(given)).toBe(systemd);
  });

  test("an unknown architecture names itself and the known ones", () => {
    expect(() => systemdArchitecture("vax")).toThrow(
      /architecture 'vax' is not one systemd knows; known: x86-64, x86, arm64/,
    );
  });
});

describe("file names: <name>_<version>_<os-version>_<arch>.raw", () => {
  test.each<[string, Parameters<typeof sysextFileName>[0], string]>([
    [
      "epoch written with +",
      { name: "docker", version: "5:29.3.0", osVersion: "13", architecture: "x86-64" },
      "docker_5+29.3.0_13_x86-64.raw",
    ],
    [
      "Debian revision and tilde kept",
      { name: "vim", version: "2:9.1.1230-2+deb13u2", osVersion: "13", architecture: "amd64" },
      "vim_2+9.1.1230-2+deb13u2_13_x86-64.raw",
    ],
    [
      "image version",
      { name: "tools", version: "20261204103000", osVersion: "13", architecture: "aarch64" },
      "tools_20261204103000_13_arm64.raw",
    ],
    [
      "revision suffix",
      { name: "docker", version: "5:29.3.0", osVersion: "13", architecture: "x86-64", revision: "2" },
      "docker_5+29.3.0-2_13_x86-64.raw",
    ],
    [
      "tilde version",
      { name: "k", version: "1.0~rc1", osVersion: "12", architecture: "x86-64" },
      "k_1.0~rc1_12_x86-64.raw",
    ],
  ])("%s", (_, fields, expected) => {
    expect(sysextFileName(fields)).toBe(expected);
  });

  test.each<[string, Parameters<typeof sysextFileName>[0], string]>([
    [
      "underscore in the name",
      { name: "my_ext", version: "1", osVersion: "13", architecture: "x86-64" },
      "name",
    ],
    [
      "slash in the version",
      { name: "a", version: "1/2", osVersion: "13", architecture: "x86-64" },
      "version",
    ],
    [
      "underscore in the version",
      { name: "a", version: "1_2", osVersion: "13", architecture: "x86-64" },
      "version",
    ],
    ["empty os version", { name: "a", version: "1", osVersion: "", architecture: "x86-64" }, "os-version"],
    [
      "space in the revision",
      { name: "a", version: "1", osVersion: "13", architecture: "x86-64", revision: "a b" },
      "revision",
    ],
  ])("refused: %s (field %s)", (_, fields, field) => {
    let error: unknown;
    try {
      sysextFileName(fields);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SysextNameError);
    expect((error as SysextNameError).field).toBe(field);
  });

  test.each([
    ["1:2.0", "1+2.0"],
    ["2.0", "2.0"],
    ["1:2:3", "1+2+3"],
  ])("fileVersion(%s) = %s", (given, expected) => expect(fileVersion(given)).toBe(expected));

  test("versionField appends the revision after the epoch rewrite", () => {
    expect(versionField("1:2.0", "3")).toBe("1+2.0-3");
    expect(versionField("1:2.0")).toBe("1+2.0");
  });

  test("stable name and MatchPattern agree with the versioned name", () => {
    expect(stableFileName("docker")).toBe("docker.raw");
    expect(matchPattern("docker", "13", "amd64")).toBe("docker_@v_13_x86-64.raw");
  });

  test.each([
    [
      "docker_5+29.3.0_13_x86-64.raw",
      { name: "docker", version: "5+29.3.0", osVersion: "13", architecture: "x86-64", suffix: ".raw" },
    ],
    [
      "vim_2+9.1-2+deb13u2_13_arm64.raw.zst",
      { name: "vim", version: "2+9.1-2+deb13u2", osVersion: "13", architecture: "arm64", suffix: ".raw.zst" },
    ],
    ["docker.raw", undefined],
    ["SHA256SUMS", undefined],
  ])("parseSysextFileName(%s)", (file, expected) => {
    expect(parseSysextFileName(file)).toEqual(expected);
  });
});
