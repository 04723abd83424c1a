import { spawnSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  TOOLBOX_BUILD_TIMEOUT_MS,
  TOOLBOX_SCRIPTS,
  enterArgv,
  ensureToolbox,
  inToolbox,
  mountsUnder,
  parseVersion,
  toolboxUnavailable,
  versionAtLeast,
  type Toolbox,
} from "../helpers/toolbox";

describe("toolbox helpers (pure)", () => {
  test.each([
    ["mkosi 25.3", [25, 3, 0]],
    ["systemd 257 (257.13-1~deb13u1)\n+PAM +AUDIT", [257, 0, 0]],
    ["skopeo version 1.18.0", [1, 18, 0]],
    ["mkosi v14", [14, 0, 0]],
  ] as const)("parseVersion(%j) is %j", (output, expected) => {
    expect(parseVersion(output)).toEqual(expected);
  });

  test("parseVersion names the output it could not read", () => {
    expect(() => parseVersion("command not found")).toThrow(/no version number in "command not found"/);
  });

  test.each([
    [[25, 3, 0], [25, 0, 0], true],
    [[14, 0, 0], [25, 0, 0], false],
    [[1, 18, 0], [1, 18, 0], true],
    [[1, 9, 3], [1, 18, 0], false],
    [[257, 0, 0], [257, 0, 0], true],
    [[252, 22, 0], [257, 0, 0], false],
  ] as const)("versionAtLeast(%j, %j) is %s", (version, minimum, expected) => {
    expect(versionAtLeast([...version], [...minimum])).toBe(expected);
  });

  test.each([
    [{}, ["/tb", "--", "mkosi", "--version"]],
    [{ binds: ["/out"] }, ["--bind", "/out", "/tb", "--", "mkosi", "--version"]],
    [
      { binds: ["/a", "/b"], envNames: ["SOURCE_DATE_EPOCH", "TOKEN"] },
      [
        "--bind",
        "/a",
        "--bind",
        "/b",
        "--env",
        "SOURCE_DATE_EPOCH",
        "--env",
        "TOKEN",
        "/tb",
        "--",
        "mkosi",
        "--version",
      ],
    ],
  ])("enterArgv with %j", (options, expected) => {
    expect(enterArgv("/tb", ["mkosi", "--version"], options)).toEqual(expected);
  });

  test.each([
    [["x"], { envNames: ["1BAD"] }, /env name "1BAD" is not a variable name/],
    [["x"], { envNames: ["A=B"] }, /env name "A=B" is not a variable name/],
    [[], {}, /the command is empty/],
  ])("enterArgv(%j, %j) is refused", (command, options, message) => {
    expect(() => enterArgv("/tb", command, options)).toThrow(message);
  });
});

describe("enter.sh refuses bad input before touching anything", () => {
  const enter = join(TOOLBOX_SCRIPTS, "enter.sh");
  test.each([
    [[], /no ROOT given/],
    [["/nonexistent-toolbox", "--", "true"], /ROOT '\/nonexistent-toolbox' is not a directory/],
    [["/var", "--"], /no command given after '--'/],
    [
      ["--frobnicate", "/var", "--", "true"],
      /unknown option '--frobnicate'; accepted: --bind PATH, --env NAME/,
    ],
    [["/var", "/usr", "--", "true"], /more than one ROOT given \('\/var' and '\/usr'\)/],
    [["/usr/share", "--", "true"], /ROOT '\/usr\/share' holds no system tree/],
  ])("enter.sh %j", (args, message) => {
    const result = spawnSync("bash", [enter, ...args], { encoding: "utf8" });
    expect(result.status).toBe(125);
    expect(result.stderr).toMatch(message);
  });
});

describe.skipIf(toolboxUnavailable())("trixie toolbox (real chroot)", () => {
  let toolbox: Toolbox;
  let work: string;

  beforeAll(async () => {
    toolbox = await ensureToolbox();
    work = await mkdtemp(join(tmpdir(), "frostyard-toolbox-"));
  }, TOOLBOX_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A wrapper from binDir run the way an action runs `mkosi …`: by name, with toolbox.env's PATH. */
  function viaWrapper(command: string, args: string[], cwd = "/") {
    const result = spawnSync(command, args, {
      cwd,
      env: { ...process.env, ...toolbox.env },
      encoding: "utf8",
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test.each([
    ["mkosi", [25, 0, 0]],
    ["systemd-repart", [257, 0, 0]],
    ["skopeo-trixie", [1, 18, 0]],
  ] as const)("%s --version through its wrapper is at least %j", (command, minimum) => {
    const result = viaWrapper(command, ["--version"]);
    expect(result.code, result.stderr).toBe(0);
    const version = parseVersion(result.stdout);
    expect(versionAtLeast(version, [...minimum]), `${command} reports ${result.stdout.trim()}`).toBe(true);
  });

  test("the tree is Debian trixie", async () => {
    const result = await inToolbox(["cat", "/etc/os-release"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^VERSION_CODENAME=trixie$/m);
  });

  test("skopeo generate-sigstore-key writes cosign-format keys into a bound directory the host reads", async () => {
    const keys = join(work, "keys");
    await mkdir(keys);
    const passphrase = join(keys, "passphrase");
    // The passphrase travels as a file, never in argv.
    await writeFile(passphrase, "toolbox-test-passphrase", { mode: 0o600 });
    const result = await inToolbox(
      [
        "skopeo",
        "generate-sigstore-key",
        "--output-prefix",
        join(keys, "cosign"),
        "--passphrase-file",
        passphrase,
      ],
      { binds: [keys] },
    );
    expect(result.code, result.stderr).toBe(0);

    const privateKey = await readFile(join(keys, "cosign.private"), "utf8");
    expect(privateKey).toMatch(
      /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n[\s\S]+\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n?$/,
    );
    const publicPem = await readFile(join(keys, "cosign.pub"), "utf8");
    const publicKey = createPublicKey(publicPem);
    expect(publicKey.asymmetricKeyType).toBe("ec");
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  test("mkosi through the wrapper reads the project in the current directory", async () => {
    const project = join(work, "project");
    await mkdir(project);
    const imageId = `probe-${process.pid}`;
    await writeFile(
      join(project, "mkosi.conf"),
      [
        "[Distribution]",
        "Distribution=debian",
        "Release=trixie",
        "",
        "[Output]",
        "Format=directory",
        `ImageId=${imageId}`,
        "",
      ].join("\n"),
    );
    const result = viaWrapper("mkosi", ["--json", "summary"], project);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      Images: Array<{ ImageId: string; Release: string; Format: string }>;
    };
    expect(summary.Images.at(-1)).toMatchObject({ ImageId: imageId, Release: "trixie", Format: "directory" });
  });

  test("the command's exit code comes back unchanged", async () => {
    const result = await inToolbox(["sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(result).toEqual({ code: 7, stdout: "out\n", stderr: "err\n" });
  });

  test("the environment is empty but for the allowlist and --env names", async () => {
    const result = await inToolbox(["env"], {
      env: { SOURCE_DATE_EPOCH: "1700000000", FROSTYARD_PROBE: "passed" },
    });
    expect(result.code, result.stderr).toBe(0);
    const names = result.stdout
      .trim()
      .split("\n")
      .map((line) => line.slice(0, line.indexOf("=")));
    expect(result.stdout).toMatch(/^SOURCE_DATE_EPOCH=1700000000$/m);
    expect(result.stdout).toMatch(/^FROSTYARD_PROBE=passed$/m);
    expect(result.stdout).toMatch(/^HOME=\/root$/m);
    // Nothing of the host's environment (vitest's, the shell's) leaks in.
    const hostOnly = Object.keys(process.env).filter(
      (name) => !["SOURCE_DATE_EPOCH", "TMPDIR", "PATH", "HOME", "PWD", "OLDPWD", "SHLVL"].includes(name),
    );
    expect(hostOnly.length).toBeGreaterThan(0);
    expect(names.filter((name) => hostOnly.includes(name))).toEqual([]);
  });

  test("no mount is left behind under the tree after commands ran", async () => {
    const result = await inToolbox(["sh", "-c", "grep -c ' /proc ' /proc/self/mountinfo"]);
    expect(result.code, result.stderr).toBe(0);
    expect(Number(result.stdout.trim())).toBeGreaterThan(0); // mounted inside while it ran
    expect(mountsUnder(toolbox.root)).toEqual([]);
  });
});
