import { describe, expect, test } from "vitest";
import { InputError } from "@frostyard/kit";
import {
  buildArgv,
  buildVariables,
  defaultImageVersion,
  summaryArgv,
  validateExtraArgs,
  validateImageVersion,
  validateProfiles,
  withSudo,
  useSudo,
  parseMkosiVersion,
  isSupportedVersion,
  assertSupportedVersion,
  type MkosiOptions,
} from "@frostyard/mkosi";

const base: MkosiOptions = {
  directory: "/src/os",
  profiles: [],
  imageVersion: "1.0",
  environmentNames: [],
  extraArgs: [],
};

describe("mkosi argv", () => {
  test.each<[string, Partial<MkosiOptions>, string[]]>([
    ["minimal", {}, ["--directory", "/src/os", "--image-version=1.0"]],
    [
      "profiles, one flag each",
      { profiles: ["snow", "cayo"] },
      ["--directory", "/src/os", "--profile=snow", "--profile=cayo", "--image-version=1.0"],
    ],
    [
      "variables by name only",
      { environmentNames: ["TOKEN", "MODE"] },
      ["--directory", "/src/os", "--image-version=1.0", "--environment=TOKEN", "--environment=MODE"],
    ],
    [
      "an architecture after the version",
      { architecture: "arm64", profiles: ["snow"] },
      ["--directory", "/src/os", "--profile=snow", "--image-version=1.0", "--architecture=arm64"],
    ],
    [
      "directories and extra args last",
      {
        cacheDirectory: "/mnt/c",
        workspaceDirectory: "/mnt/w",
        outputDirectory: "/mnt/o",
        extraArgs: ["--debug"],
      },
      [
        "--directory",
        "/src/os",
        "--image-version=1.0",
        "--cache-directory=/mnt/c",
        "--workspace-directory=/mnt/w",
        "--output-directory=/mnt/o",
        "--debug",
      ],
    ],
  ])("%s", (_name, options, common) => {
    expect(summaryArgv({ ...base, ...options })).toEqual([...common, "--json", "summary"]);
    expect(buildArgv({ ...base, ...options })).toEqual([...common, "--force", "build"]);
  });

  test("secret values never appear in argv", () => {
    const variables = buildVariables(new Map([["MODE", "fast"]]), new Map([["TOKEN", "s3cr3t-value"]]));
    const argv = buildArgv({ ...base, environmentNames: variables.map((v) => v.name) });
    expect(argv.join(" ")).not.toContain("s3cr3t-value");
    expect(variables).toEqual([
      { name: "MODE", value: "fast", secret: false },
      { name: "TOKEN", value: "s3cr3t-value", secret: true },
    ]);
  });

  test.each<[string, Map<string, string>, Map<string, string>, RegExp]>([
    ["bad name", new Map([["1X", "v"]]), new Map(), /input 'environment'.*'1X' is not a variable name/],
    [
      "reserved name",
      new Map([["PATH", "/x"]]),
      new Map(),
      /input 'environment'.*'PATH' is set by the action itself/,
    ],
    [
      "in both inputs",
      new Map([["T", "a"]]),
      new Map([["T", "b"]]),
      /input 'secret-environment'.*'T' is also set in 'environment'/,
    ],
  ])("variables: %s refused", (_name, plain, secret, message) => {
    expect(() => buildVariables(plain, secret)).toThrow(InputError);
    expect(() => buildVariables(plain, secret)).toThrow(message);
  });

  test.each<[string[], RegExp | undefined]>([
    [["snow", "cayo-2.0"], undefined],
    [["a/b"], /'a\/b' is not a profile name/],
    [["snow", "snow"], /'snow' is listed twice/],
    [["a,b"], /'a,b' is not a profile name/],
  ])("profiles %j", (profiles, error) => {
    if (error) expect(() => validateProfiles(profiles)).toThrow(error);
    else expect(validateProfiles(profiles)).toEqual(profiles);
  });

  test.each<[string[], RegExp | undefined]>([
    [["--debug", "--incremental=yes"], undefined],
    [["build"], /'build' is an mkosi verb/],
    [["-E", "X=1"], /'-E' would put a variable's value on the command line/],
    [["--environment=X=1"], /'--environment' would put/],
  ])("extra args %j", (args, error) => {
    if (error) expect(() => validateExtraArgs(args)).toThrow(error);
    else expect(validateExtraArgs(args)).toEqual(args);
  });
});

describe("image version", () => {
  test.each([
    ["2026-11-25T21:45:23Z", "20261125214523"],
    ["2027-01-02T03:04:05.999Z", "20270102030405"],
  ])("default for %s is %s (UTC %%Y%%m%%d%%H%%M%%S)", (iso, expected) => {
    expect(defaultImageVersion(new Date(iso))).toBe(expected);
  });
  test.each([["1.0"], ["2026.11.25-1"], ["v2_rc1"]])("%s is accepted", (v) =>
    expect(validateImageVersion(v)).toBe(v),
  );
  test.each([[".hidden"], ["-x"], ["a b"], ["x".repeat(129)], ["1.0/2"]])("%s is refused as a tag", (v) => {
    expect(() => validateImageVersion(v)).toThrow(/input 'image-version'.*cannot be an image tag/);
  });
});

describe("sudo", () => {
  test.each<["auto" | "true" | "false", number, boolean, boolean]>([
    ["auto", 0, true, false],
    ["auto", 1001, true, true],
    ["true", 0, true, true],
    ["false", 1001, false, false],
  ])("mode %s as uid %i (sudo present: %s) → %s", (mode, uid, present, expected) => {
    expect(useSudo(mode, uid, present)).toBe(expected);
  });
  test("auto without sudo as non-root is a clear error", () => {
    expect(() => useSudo("auto", 1001, false)).toThrow(
      /input 'sudo'.*not running as root \(uid 1001\) and sudo is not on PATH/,
    );
  });
  test.each<[boolean, string[], { command: string; args: string[] }]>([
    [false, ["TOKEN"], { command: "/opt/mkosi", args: ["build"] }],
    [true, [], { command: "sudo", args: ["-n", "--", "/opt/mkosi", "build"] }],
    [
      true,
      ["TOKEN", "SOURCE_DATE_EPOCH", "TOKEN"],
      {
        command: "sudo",
        args: ["-n", "--preserve-env=TOKEN,SOURCE_DATE_EPOCH", "--", "/opt/mkosi", "build"],
      },
    ],
  ])("withSudo(sudo=%s, names=%j)", (sudo, names, expected) => {
    expect(withSudo("/opt/mkosi", ["build"], sudo, names)).toEqual(expected);
  });
});

describe("mkosi version", () => {
  test.each([
    ["mkosi 25.3\n", 25, 3, "25.3", true],
    ["mkosi 26~devel", 26, 0, "26~devel", true],
    ["mkosi 14", 14, 0, "14", false],
    ["mkosi 24.3", 24, 3, "24.3", false],
  ])("%j", (output, major, minor, text, supported) => {
    const version = parseMkosiVersion(output);
    expect(version).toEqual({ major, minor, text });
    expect(isSupportedVersion(version)).toBe(supported);
  });
  test("too old names the minimum", () => {
    expect(() => assertSupportedVersion(parseMkosiVersion("mkosi 14"))).toThrow(
      /version 14, too old: build-mkosi needs mkosi 25 or newer/,
    );
  });
  test("no version at all", () => {
    expect(() => parseMkosiVersion("python3: not found")).toThrow(/could not read a version/);
  });
});
