import { describe, expect, test } from "vitest";
import { chownArgv, rootfulPodman } from "@frostyard/disk";

describe("the rootful podman the builders run through", () => {
  test.each([
    ["root: podman as is", 0, { CONTAINERS_CONF: "/c.conf" }, { command: "podman", prefix: [] }],
    [
      "a runner user: sudo -n, nothing to keep",
      1001,
      { HOME: "/home/runner", INPUT_IMAGE: "x" },
      { command: "sudo", prefix: ["-n", "--", "podman"] },
    ],
    [
      "a runner user: podman's own variables named, never their values",
      1001,
      { CONTAINERS_STORAGE_CONF: "/s.conf", REGISTRY_AUTH_FILE: "/a.json", TMPDIR: "/mnt/tmp", TOKEN: "t" },
      {
        command: "sudo",
        prefix: ["-n", "--preserve-env=CONTAINERS_STORAGE_CONF,REGISTRY_AUTH_FILE,TMPDIR", "--", "podman"],
      },
    ],
    [
      "an empty variable is not kept",
      1001,
      { TMPDIR: "" },
      { command: "sudo", prefix: ["-n", "--", "podman"] },
    ],
  ])("%s", (_, uid, env, expected) => {
    expect(rootfulPodman(uid, env)).toEqual(expected);
  });

  test.each([
    [
      "the AMI upload's credentials kept across sudo by name",
      1001,
      { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s3cr3t", TMPDIR: "/t" },
      {
        command: "sudo",
        prefix: ["-n", "--preserve-env=TMPDIR,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY", "--", "podman"],
      },
    ],
    ["root: nothing to keep", 0, { AWS_ACCESS_KEY_ID: "AKIA" }, { command: "podman", prefix: [] }],
  ])("%s", (_, uid, env, expected) => {
    const podman = rootfulPodman(uid, env, [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
    ]);
    expect(podman).toEqual(expected);
    expect(podman.prefix.join(" ")).not.toContain("s3cr3t");
  });

  test("the builders' root-written files go back to the runner's user", () => {
    expect(chownArgv({ uid: 1001, gid: 118 }, "/w/disk-output")).toEqual([
      "-n",
      "--",
      "chown",
      "-R",
      "1001:118",
      "/w/disk-output",
    ]);
  });
});
