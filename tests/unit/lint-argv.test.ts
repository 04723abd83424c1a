import { describe, expect, test } from "vitest";
import {
  bootcFeatures,
  describeSource,
  lintInvocation,
  parseBootcVersion,
  parseImageSource,
  usesLocalCopy,
  pullReference,
} from "@frostyard/lint-bootc";

const ALL = { fatalWarnings: true, skip: true, noTruncate: true };
const NONE = { fatalWarnings: false, skip: false, noTruncate: false };
const HELP_1_1_5 = `Perform relatively inexpensive static analysis checks as part of a container build

Usage: bootc container lint [OPTIONS]

Options:
      --rootfs <ROOTFS>  Operate on the provided rootfs [default: /]
      --fatal-warnings   Make warnings fatal
      --list             Instead of performing any validation, list all lints
      --skip <SKIP>      Skip checking the targeted lints, by name
  -h, --help             Print help`;

describe("lintInvocation", () => {
  test.each([
    {
      name: "plain lint",
      request: { image: "abc123", fatalWarnings: false, skip: [], noTruncate: false },
      features: ALL,
      args: [
        "run",
        "--rm",
        "--pull=never",
        "--network=none",
        "--entrypoint",
        "bootc",
        "abc123",
        "container",
        "lint",
      ],
      dropped: [],
    },
    {
      name: "every option, supported",
      request: {
        image: "localhost/os:1",
        fatalWarnings: true,
        skip: ["var-log", "sysusers"],
        noTruncate: true,
      },
      features: ALL,
      args: [
        ...["run", "--rm", "--pull=never", "--network=none", "--entrypoint", "bootc", "localhost/os:1"],
        ...[
          "container",
          "lint",
          "--fatal-warnings",
          "--no-truncate",
          "--skip",
          "var-log",
          "--skip",
          "sysusers",
        ],
      ],
      dropped: [],
    },
    {
      name: "an old bootc: every option dropped, each named",
      request: { image: "abc", fatalWarnings: true, skip: ["var-log"], noTruncate: true },
      features: NONE,
      args: [
        "run",
        "--rm",
        "--pull=never",
        "--network=none",
        "--entrypoint",
        "bootc",
        "abc",
        "container",
        "lint",
      ],
      dropped: [
        "--fatal-warnings (warnings are judged from the output instead)",
        "--no-truncate (lists stay cut at five items)",
        "--skip var-log (findings of those lints are dropped from the report instead)",
      ],
    },
    {
      name: "bootc 1.1.5: --no-truncate dropped, the rest passed",
      request: { image: "abc", fatalWarnings: true, skip: ["kernel"], noTruncate: true },
      features: { fatalWarnings: true, skip: true, noTruncate: false },
      args: [
        ...["run", "--rm", "--pull=never", "--network=none", "--entrypoint", "bootc", "abc"],
        ...["container", "lint", "--fatal-warnings", "--skip", "kernel"],
      ],
      dropped: ["--no-truncate (lists stay cut at five items)"],
    },
  ])("$name", ({ request, features, args, dropped }) => {
    expect(lintInvocation(request, features)).toEqual({ args, dropped });
  });
});

describe("bootcFeatures", () => {
  test.each([
    {
      name: "help lists the flags (1.1.5)",
      version: "bootc 1.1.5",
      help: HELP_1_1_5,
      expected: { fatalWarnings: true, skip: true, noTruncate: false },
    },
    {
      name: "help wins over the version",
      version: "bootc 1.13.0",
      help: HELP_1_1_5,
      expected: { fatalWarnings: true, skip: true, noTruncate: false },
    },
    { name: "no help: 1.13.0 by version", version: "bootc 1.13.0", help: "", expected: ALL },
    {
      name: "no help: 1.1.4 by version",
      version: "bootc 1.1.4",
      help: "",
      expected: { fatalWarnings: true, skip: false, noTruncate: false },
    },
    { name: "no help: 1.1.2 by version", version: "bootc 1.1.2", help: "", expected: NONE },
    { name: "neither: nothing optional", version: "something else", help: "", expected: NONE },
  ])("$name", ({ version, help, expected }) => {
    expect(bootcFeatures(version, help)).toEqual(expected);
  });

  test.each([
    ["bootc 1.13.0", [1, 13, 0]],
    ["bootc 1.1", [1, 1, 0]],
    ["bootc v1.2.3\n", [1, 2, 3]],
    ["podman 4.3.1", undefined],
  ])("parseBootcVersion(%j)", (text, expected) => {
    expect(parseBootcVersion(text)).toEqual(expected);
  });
});

describe("parseImageSource", () => {
  test.each([
    ["ghcr.io/acme/os:1.2", { kind: "name", ref: "ghcr.io/acme/os:1.2" }, "ghcr.io/acme/os:1.2"],
    [
      "docker://127.0.0.1:5000/os:1",
      { kind: "registry", ref: "127.0.0.1:5000/os:1" },
      "docker://127.0.0.1:5000/os:1",
    ],
    ["oci:/out/os", { kind: "oci-layout", path: "/out/os" }, "oci:/out/os"],
    ["oci:/out/os:v1", { kind: "oci-layout", path: "/out/os", ref: "v1" }, "oci:/out/os:v1"],
    ["oci:out:dir/os", { kind: "oci-layout", path: "out:dir/os" }, "oci:out:dir/os"],
    ["./build/oci", { kind: "oci-layout", path: "./build/oci" }, "oci:./build/oci"],
    ["/abs/layout", { kind: "oci-layout", path: "/abs/layout" }, "oci:/abs/layout"],
    [
      "containers-storage:localhost/os:dev",
      { kind: "containers-storage", name: "localhost/os:dev" },
      "containers-storage:localhost/os:dev",
    ],
  ])("%s", (raw, expected, pull) => {
    const source = parseImageSource(raw);
    expect(source).toEqual(expected);
    expect(pullReference(source)).toBe(pull);
    expect(describeSource(source)).toContain(
      raw.replace(/^(docker:\/\/|oci:|containers-storage:)/, "").split(":v1")[0],
    );
  });

  test.each([
    ["", "input 'image': is empty"],
    ["  ", "input 'image': is empty"],
    ["oci:", "input 'image': got 'oci:' with no path"],
    ["containers-storage:", "with no image name"],
    [
      "http://example.com/os",
      "unsupported transport; expected docker://, oci:, containers-storage: or a plain reference",
    ],
    ["--privileged", "input 'image': got '--privileged'"],
    ["ghcr.io/acme/os 1", "input 'image': got 'ghcr.io/acme/os 1'"],
  ])("rejects %j", (raw, message) => {
    expect(() => parseImageSource(raw)).toThrow(message);
  });
});

describe("usesLocalCopy: which bare names may come from podman's storage without a pull", () => {
  test.each([
    ["os:latest", true],
    ["localhost/os:latest", true],
    ["localhost:5000/os:latest", false],
    ["ghcr.io/acme/os:latest", false],
    ["127.0.0.1:5000/acme/os:1", false],
    [`ghcr.io/acme/os@sha256:${"a".repeat(64)}`, true],
    [`ghcr.io/acme/os:1@sha256:${"b".repeat(64)}`, true],
    ["acme/os:1", true],
  ])("%s → %s", (ref, expected) => {
    expect(usesLocalCopy(ref)).toBe(expected);
  });
});
