import { describe, expect, test } from "vitest";
import { packagesInChild } from "../../packages/actions/src/build-mkosi/package-as-root";

describe("where packaging runs", () => {
  test.each<[boolean, number, Record<string, string>, boolean]>([
    [false, 0, {}, false], // root, no sudo: in process
    [true, 1001, {}, true], // mkosi ran under sudo: the rootfs needs root to read
    [true, 0, {}, false], // sudo: true as root changes nothing for reading
    [false, 1001, {}, false], // unprivileged mkosi: files are ours
    [false, 0, { FROSTYARD_MKOSI_PACKAGE_IN_CHILD: "1" }, true], // tests take the child path
    [false, 0, { FROSTYARD_MKOSI_PACKAGE_IN_CHILD: "0" }, false],
  ])("sudo=%s uid=%i env=%j → child %s", (sudo, uid, env, expected) => {
    expect(packagesInChild(sudo, uid, env)).toBe(expected);
  });
});
