import { describe, expect, test } from "vitest";
import { pathInWorkspace } from "@frostyard/kit";

describe("pathInWorkspace", () => {
  test.each<[string, string, string | undefined]>([
    ["a relative path", "out/rootfs", "/w/repo/out/rootfs"],
    ["the workspace itself", ".", "/w/repo"],
    ["'..' that comes back in", "out/../rootfs", "/w/repo/rootfs"],
    ["a name that starts with '..'", "..rootfs", "/w/repo/..rootfs"],
    ["an absolute path inside", "/w/repo/out", "/w/repo/out"],
    ["the parent", "..", undefined],
    ["'..' up to the host's /etc", "../../etc", undefined],
    ["'..' after a directory", "out/../../x", undefined],
    ["an absolute path elsewhere", "/etc", undefined],
    ["a sibling sharing the prefix", "/w/repo-other/x", undefined],
  ])("%s: %j → %j", (_name, path, expected) => {
    expect(pathInWorkspace("/w/repo", path)).toBe(expected);
  });

  test("a workspace given with a trailing slash or relative parts is resolved first", () => {
    expect(pathInWorkspace("/w/repo/", "x")).toBe("/w/repo/x");
    expect(pathInWorkspace("/w/other/../repo", "../repo/x")).toBe("/w/repo/x");
  });
});
