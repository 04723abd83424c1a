import { describe, expect, test } from "vitest";
import {
  candidatePaths,
  chooseWorkVolume,
  planRunnerPreparation,
  prepStepArgv,
  resolveMkosiSource,
  DEFAULT_MKOSI_REF,
  MKOSI_PINS,
  mkosiDownload,
  packArgv,
  unpackArgv,
  compressorOf,
  type RunnerFacts,
} from "@frostyard/mkosi";

const GiB = 2 ** 30;

describe("work volume", () => {
  test.each<[string, { path: string; freeBytes: number; writable: boolean }[], boolean, string]>([
    [
      "hosted runner: /mnt has the most",
      [
        { path: "/home/runner/work/_temp", freeBytes: 20 * GiB, writable: true },
        { path: "/mnt", freeBytes: 70 * GiB, writable: false },
      ],
      true,
      "/mnt",
    ],
    [
      "without sudo an unwritable /mnt is skipped",
      [
        { path: "/home/runner/work/_temp", freeBytes: 20 * GiB, writable: true },
        { path: "/mnt", freeBytes: 70 * GiB, writable: false },
      ],
      false,
      "/home/runner/work/_temp",
    ],
    [
      "ties keep the first",
      [
        { path: "/a", freeBytes: GiB, writable: true },
        { path: "/b", freeBytes: GiB, writable: true },
      ],
      false,
      "/a",
    ],
  ])("%s", (_name, candidates, sudo, expected) => {
    expect(chooseWorkVolume(candidates, sudo).path).toBe(expected);
  });
  test("nothing writable is a clear error", () => {
    expect(() => chooseWorkVolume([{ path: "/mnt", freeBytes: GiB, writable: false }], false)).toThrow(
      /no writable volume.*\/mnt.*set work-directory/,
    );
  });
  test("candidates: RUNNER_TEMP, /mnt, tmp, /var/tmp without duplicates", () => {
    expect(candidatePaths({ RUNNER_TEMP: "/r/_temp" }, "/tmp")).toEqual([
      "/r/_temp",
      "/mnt",
      "/tmp",
      "/var/tmp",
    ]);
    expect(candidatePaths({}, "/var/tmp")).toEqual(["/mnt", "/var/tmp"]);
  });
});

describe("runner preparation", () => {
  const hostedUbuntu: RunnerFacts = {
    githubHosted: true,
    osId: "ubuntu",
    sysctls: {
      "kernel.apparmor_restrict_unprivileged_userns": "1",
      "kernel.apparmor_restrict_unprivileged_unconfined": "0",
    },
    existingPaths: new Set(["/usr/share/keyrings/ubuntu-archive-keyring.gpg"]),
    distributions: ["debian"],
    formats: ["directory"],
    hasSystemdRepart: false,
  };
  test.each<[string, Partial<RunnerFacts>, string[]]>([
    [
      "hosted Ubuntu building Debian: userns sysctl and the Debian keyring",
      {},
      ["sysctl kernel.apparmor_restrict_unprivileged_userns=0", "apt-install debian-archive-keyring"],
    ],
    [
      "keyring already there, sysctl already 0: nothing",
      { sysctls: {}, existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]) },
      [],
    ],
    [
      "a sysext needs systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["directory", "sysext"],
      },
      ["apt-install systemd-repart"],
    ],
    [
      "Format=disk needs systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["disk"],
      },
      ["apt-install systemd-repart"],
    ],
    [
      "Format=esp needs systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["esp"],
      },
      ["apt-install systemd-repart"],
    ],
    [
      "Format=confext needs systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["confext"],
      },
      ["apt-install systemd-repart"],
    ],
    [
      "Format=portable needs systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["portable"],
      },
      ["apt-install systemd-repart"],
    ],
    [
      "Format=oci does not need systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["oci"],
      },
      [],
    ],
    [
      "Format=uki does not need systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["uki"],
      },
      [],
    ],
    [
      "Format=tar does not need systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["tar"],
      },
      [],
    ],
    [
      "Format=cpio does not need systemd-repart",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["cpio"],
      },
      [],
    ],
    [
      "systemd-repart already on PATH",
      {
        sysctls: {},
        existingPaths: new Set(["/usr/share/keyrings/debian-archive-keyring.gpg"]),
        formats: ["disk"],
        hasSystemdRepart: true,
      },
      [],
    ],
    ["self-hosted: never touched", { githubHosted: false }, []],
    ["hosted but not Ubuntu: never touched", { osId: "debian" }, []],
  ])("%s", (_name, overrides, expected) => {
    const steps = planRunnerPreparation({ ...hostedUbuntu, ...overrides });
    expect(
      steps.map((s) =>
        s.kind === "sysctl" ? `sysctl ${s.key}=${s.value}` : `apt-install ${s.packages.join(" ")}`,
      ),
    ).toEqual(expected);
    for (const step of steps) expect(step.reason).not.toBe("");
  });
  test("argv of each step", () => {
    expect(prepStepArgv({ kind: "sysctl", key: "kernel.x", value: "0", reason: "r" })).toEqual([
      { command: "sysctl", args: ["--write", "kernel.x=0"] },
    ]);
    expect(prepStepArgv({ kind: "apt-install", packages: ["a", "b"], reason: "r" })).toEqual([
      { command: "apt-get", args: ["update", "-qq"] },
      { command: "apt-get", args: ["install", "-y", "-qq", "--no-install-recommends", "a", "b"] },
    ]);
  });
});

describe("mkosi source", () => {
  const commit = "0123456789abcdef0123456789abcdef01234567";
  const sha = "a".repeat(64);
  const layout = { archive: "refs/tags/v25.3.tar.gz", topDirectory: "mkosi-25.3" };
  const pins = [{ commit, version: "25.3", sha256: sha, ...layout }];
  test.each<[string, string | undefined, unknown]>([
    ["system", undefined, { kind: "system" }],
    [commit, undefined, { kind: "commit", commit, sha256: sha, version: "25.3", archive: layout }],
    ["f".repeat(40), "b".repeat(64), { kind: "commit", commit: "f".repeat(40), sha256: "b".repeat(64) }],
  ])("%s", (ref, sha256, expected) => {
    expect(resolveMkosiSource(ref, sha256, pins)).toEqual(expected);
  });
  test.each<[string, string | undefined, RegExp]>([
    ["v25.3", undefined, /input 'mkosi-ref'.*'v25.3' is not a full commit id.*branches and tags move/],
    ["main", undefined, /input 'mkosi-ref'.*'main' is not a full commit id/],
    ["f".repeat(40), undefined, /input 'mkosi-sha256'.*is empty and f{40} is not a pinned commit/],
    [commit, "b".repeat(64), /input 'mkosi-sha256'.*differs from the sha256 pinned/],
    ["f".repeat(40), "xyz", /input 'mkosi-sha256'.*is not a sha256/],
    ["system", "b".repeat(64), /input 'mkosi-sha256'.*is set while mkosi-ref is 'system'/],
  ])("%s with sha %s is refused", (ref, sha256, message) => {
    expect(() => resolveMkosiSource(ref, sha256, pins)).toThrow(message);
  });
  test("the download is GitHub's tarball of the commit, launcher in mkosi-<commit>/bin", () => {
    expect(mkosiDownload(commit, sha, "http://127.0.0.1:1/archive/", "x64")).toEqual({
      tool: "mkosi",
      version: commit,
      platform: "linux",
      arch: "x64",
      url: `http://127.0.0.1:1/archive/${commit}.tar.gz`,
      sha256: sha,
      archive: "tar.gz",
      binaries: [`mkosi-${commit}/bin/mkosi`],
    });
  });
  test("a pinned release comes from its tag tarball, launcher in its own directory", () => {
    const source = resolveMkosiSource(commit, undefined, pins);
    if (source.kind !== "commit") throw new Error("expected a commit");
    const download = mkosiDownload(
      source.commit,
      source.sha256,
      "http://127.0.0.1:1/archive",
      "x64",
      source.archive,
    );
    expect(download.url).toBe("http://127.0.0.1:1/archive/refs/tags/v25.3.tar.gz");
    expect(download.binaries).toEqual(["mkosi-25.3/bin/mkosi"]);
  });
  test("the default mkosi-ref is the newest pin, and every pin is a full commit with a sha256", () => {
    expect(DEFAULT_MKOSI_REF).toBe(MKOSI_PINS[0]?.commit);
    for (const pin of MKOSI_PINS) {
      expect(pin.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(pin.archive).toMatch(/\.tar\.gz$/);
    }
  });
});

describe("cache archive argv", () => {
  test("pack keeps owners, xattrs (capabilities) and ACLs; unpack restores them", () => {
    expect(packArgv("/mnt/c", "/mnt/a.tar.zst", "zstd")).toEqual([
      "--create",
      "--file=/mnt/a.tar.zst",
      "--directory=/mnt/c",
      "--numeric-owner",
      "--xattrs",
      "--xattrs-include=*",
      "--acls",
      "--sparse",
      "--use-compress-program=zstd -T0 -3",
      ".",
    ]);
    expect(unpackArgv("/mnt/c", "/mnt/a.tar.gz", "gzip")).toEqual([
      "--extract",
      "--file=/mnt/a.tar.gz",
      "--directory=/mnt/c",
      "--numeric-owner",
      "--same-owner",
      "--same-permissions",
      "--xattrs",
      "--xattrs-include=*",
      "--acls",
      "--gzip",
    ]);
    expect(compressorOf("x.tar.zst")).toBe("zstd");
    expect(() => compressorOf("x.zip")).toThrow(/expected a .tar.zst or .tar.gz name/);
  });
});
