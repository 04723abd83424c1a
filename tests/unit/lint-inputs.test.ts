// actions/lint-bootc's inputs: what to lint must fit together (one check, shared with lint()), paths stay
// in the workspace, and a system extension needs its name.
import { describe, expect, test } from "vitest";
import { inputsFrom, InputError } from "@frostyard/kit";
import { lint, LintTargetError, targetProblem, type Engine } from "@frostyard/lint-bootc";
import { recordingLogger } from "@frostyard/kit";
import { parseInputs } from "../../packages/actions/src/lint-bootc/inputs";

const WORKSPACE = "/w/repo";

const parse = (values: Record<string, string>) => parseInputs(inputsFrom(values), WORKSPACE);

describe("parseInputs", () => {
  test("rootfs is resolved against the workspace; the summary keeps it as written", () => {
    const inputs = parse({ rootfs: "out/rootfs" });
    expect(inputs.rootfs).toBe("/w/repo/out/rootfs");
    expect(inputs.rootfsText).toBe("out/rootfs");
  });

  test.each<[string, Record<string, string>, string]>([
    [
      "nothing to lint",
      {},
      "input 'image': and 'rootfs' are both empty; expected an image (registry reference, OCI layout path or local name), a rootfs directory, or both",
    ],
    [
      "engine bootc without an image",
      { rootfs: "out", engine: "bootc" },
      "input 'engine': is 'bootc' but 'image' is empty; expected an image to run bootc in, or engine native to check 'rootfs' alone",
    ],
    [
      "engine bootc for a sysext",
      { image: "os:1", engine: "bootc", sysext: "true", "sysext-name": "tools" },
      "input 'engine': is 'bootc' with sysext: true; a system extension is checked by the native rules; expected engine native or auto",
    ],
    [
      "rootfs up to the host's /etc",
      { rootfs: "../../etc" },
      "input 'rootfs': '../../etc' is outside the workspace /w/repo; expected a root filesystem directory inside the workspace",
    ],
    [
      "rootfs as an absolute path elsewhere",
      { rootfs: "/etc" },
      "input 'rootfs': '/etc' is outside the workspace /w/repo; expected a root filesystem directory inside the workspace",
    ],
    [
      "sysext without its name",
      { rootfs: "ext", sysext: "true" },
      "input 'sysext-name': is empty while sysext is true; expected the extension's name: usr/lib/extension-release.d/extension-release.<name> is checked",
    ],
    [
      "a sysext input without sysext",
      { rootfs: "ext", "sysext-name": "tools" },
      "input 'sysext-name': is set while sysext is false; expected sysext: true to lint a system extension",
    ],
    [
      "a sysext name that is not one",
      { rootfs: "ext", sysext: "true", "sysext-name": "../x" },
      "input 'sysext-name': got '../x'; expected an extension name of letters, digits, '.', '_', '+' and '-'",
    ],
  ])("%s fails naming the input", (_name, values, message) => {
    expect(() => parse(values)).toThrow(InputError);
    expect(() => parse(values)).toThrow(message);
  });
});

describe("targetProblem: one check for the action and lint()", () => {
  test.each<
    [string, { image?: string; rootfs?: string; engine: Engine; sysext?: boolean }, string | undefined]
  >([
    ["an image", { image: "os:1", engine: "auto" }, undefined],
    ["a rootfs, native", { rootfs: "/r", engine: "native" }, undefined],
    ["a sysext rootfs, auto", { rootfs: "/r", engine: "auto", sysext: true }, undefined],
    ["nothing", { engine: "auto" }, "image"],
    ["bootc on a rootfs", { rootfs: "/r", engine: "bootc" }, "engine"],
    ["bootc on a sysext", { image: "os:1", engine: "bootc", sysext: true }, "engine"],
  ])("%s → %s", (_name, target, option) => {
    expect(targetProblem(target)?.option).toBe(option);
  });

  test("lint() refuses with a domain error carrying the same problem, before touching podman", async () => {
    const error = await lint({
      engine: "bootc",
      rootfs: "/r",
      fatalWarnings: false,
      skip: [],
      logger: recordingLogger(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LintTargetError);
    expect(error).not.toBeInstanceOf(InputError);
    expect((error as LintTargetError).target).toEqual(targetProblem({ rootfs: "/r", engine: "bootc" }));
  });
});
