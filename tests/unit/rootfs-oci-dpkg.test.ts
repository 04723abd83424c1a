import { describe, expect, test } from "vitest";
import {
  canonicalPath,
  dpkgArchitecture,
  ociArchitectureFromDebian,
  ownersFromLists,
  packageFromListFile,
  parseListFile,
  resolveLinkTarget,
} from "@frostyard/rootfs-oci";

describe("packageFromListFile", () => {
  test.each([
    ["libc6:amd64.list", "libc6:amd64"],
    ["bash.list", "bash"],
    ["bash.md5sums", undefined],
    ["bash.postinst", undefined],
    [".list", undefined],
    ["format", undefined],
  ])("%s → %s", (name, want) => {
    expect(packageFromListFile(name)).toBe(want);
  });
});

describe("parseListFile", () => {
  test.each([
    ["/.\n/usr\n/usr/bin\n/usr/bin/ls\n", ["usr", "usr/bin", "usr/bin/ls"]],
    ["/etc/\n\n/etc/motd", ["etc", "etc/motd"]],
    ["/usr/share/doc/a b/file with space\n", ["usr/share/doc/a b/file with space"]],
    ["", []],
  ])("%j", (text, want) => {
    expect(parseListFile(text)).toEqual(want);
  });
});

describe("resolveLinkTarget", () => {
  test.each([
    ["bin", "usr/bin", "usr/bin"],
    ["bin", "/usr/bin", "usr/bin"],
    ["usr/lib64", "lib", "usr/lib"],
    ["lib64", "usr/lib/../lib64", "usr/lib64"],
    ["usr/bin/sh", "../../bin/dash", "bin/dash"],
    ["a", "../outside", undefined],
    ["a", "/", undefined],
  ])("%s → %s", (link, target, want) => {
    expect(resolveLinkTarget(link, target)).toBe(want);
  });
});

describe("canonicalPath", () => {
  const links = new Map([
    ["bin", "usr/bin"],
    ["lib", "usr/lib"],
    ["usr/lib64", "usr/lib"],
    ["loop", "loop"],
  ]);
  test.each([
    ["bin/bash", "usr/bin/bash"],
    ["bin", "bin"], // the link itself is its own entry
    ["lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"],
    ["usr/lib64/ld.so", "usr/lib/ld.so"],
    ["usr/bin/ls", "usr/bin/ls"],
    ["binary/file", "binary/file"],
    ["loop/x", "loop/x"], // a link to itself stops after a bounded number of hops
  ])("%s → %s", (path, want) => {
    expect(canonicalPath(path, links)).toBe(want);
  });
});

describe("ownersFromLists", () => {
  test("the first package by name owns a shared path, whatever order the lists came in", () => {
    const lists = new Map([
      ["zlib1g", ["usr", "usr/lib", "usr/lib/libz.so.1"]],
      ["bash", ["bin", "bin/bash", "usr"]],
    ]);
    const reversed = new Map([...lists].reverse());
    const links = new Map([["bin", "usr/bin"]]);
    const owners = ownersFromLists(lists, links);
    expect(Object.fromEntries(owners)).toEqual({
      usr: "bash",
      "usr/lib": "zlib1g",
      "usr/lib/libz.so.1": "zlib1g",
      bin: "bash",
      "usr/bin/bash": "bash",
    });
    expect(ownersFromLists(reversed, links)).toEqual(owners);
  });
});

describe("dpkgArchitecture", () => {
  test.each([
    [
      "dpkg's own architecture wins",
      "Package: libc6\nArchitecture: i386\n\nPackage: dpkg\nArchitecture: arm64\n",
      "arm64",
    ],
    [
      "else the most common",
      "Package: a\nArchitecture: all\n\nPackage: b\nArchitecture: amd64\n\nPackage: c\nArchitecture: amd64\n\nPackage: d\nArchitecture: i386\n",
      "amd64",
    ],
    ["none", "Package: a\nArchitecture: all\n", undefined],
    ["empty", "", undefined],
  ])("%s", (_, text, want) => {
    expect(dpkgArchitecture(text)).toBe(want);
  });
});

describe("ociArchitectureFromDebian", () => {
  test.each([
    ["amd64", { architecture: "amd64" }],
    ["arm64", { architecture: "arm64", variant: "v8" }],
    ["armhf", { architecture: "arm", variant: "v7" }],
    ["i386", { architecture: "386" }],
    ["ppc64el", { architecture: "ppc64le" }],
    ["sparc", undefined],
  ])("%s", (debian, want) => {
    expect(ociArchitectureFromDebian(debian)).toEqual(want);
  });
});
