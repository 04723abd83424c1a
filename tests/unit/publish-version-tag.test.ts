import { describe, expect, test } from "vitest";
import { InputError } from "@frostyard/kit";
import { PipelineStageError } from "@frostyard/pipeline";
import { versionTagAction, VersionTagTakenError } from "@frostyard/publish";
import { PackageOptionError } from "@frostyard/rootfs-oci";
import { asInputError } from "../../packages/actions/src/domain-errors";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

describe("version tag immutability", () => {
  test.each<[string | undefined, string, boolean, string]>([
    [undefined, A, false, "push"],
    [A, A, false, "same"],
    [A, A, true, "same"],
    [B, A, true, "overwrite"],
  ])("registry holds %s, built %s, overwrite %s → %s", (existing, built, overwrite, action) => {
    expect(versionTagAction("r.example/os:1.0", existing, built, overwrite)).toBe(action);
  });

  test("another digest under the version tag is refused naming both, in the library's words", () => {
    let error: unknown;
    try {
      versionTagAction("r.example/os:1.0", B, A, false);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VersionTagTakenError);
    expect(error).not.toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `r.example/os:1.0 already exists as ${B}; this build is ${A}, and a version tag is immutable`,
    );
  });
});

describe("entries name the input a library error is about", () => {
  test("a taken version tag is the image-version input's error", () => {
    const mapped = asInputError(new VersionTagTakenError("r.example/os:1.0", B, A));
    expect(mapped).toBeInstanceOf(InputError);
    expect((mapped as Error).message).toBe(
      `input 'image-version': r.example/os:1.0 already exists as ${B}; this build is ${A}, and a version tag is immutable; expected a new image version (the default is UTC %Y%m%d%H%M%S), or overwrite-version: true to move it on purpose`,
    );
  });

  test.each<[PackageOptionError, string | undefined]>([
    [new PackageOptionError("maxLayers", "got 0", "a whole number from 1 to 128"), "max-layers"],
    [new PackageOptionError("compression", 'got "xz"', "gzip or zstd"), "compression"],
    [new PackageOptionError("sourceDateEpoch", "got -1", "whole seconds"), "source-date-epoch"],
    [new PackageOptionError("labels", 'key ""', "KEY=VALUE"), "labels"],
    [new PackageOptionError("refName", '"a b"', "letters"), "image-version"],
    // Not inputs of any action: they stay the library's errors, never "input 'architecture'".
    [new PackageOptionError("architecture", "got x", "amd64, …"), undefined],
    [new PackageOptionError("rootfs", "/x does not exist", "a directory"), undefined],
  ])("%s → %s", (error, input) => {
    const mapped = asInputError(error);
    if (input === undefined) {
      expect(mapped).toBe(error);
      expect(error.message).toMatch(/^packaging option /);
    } else {
      expect(mapped).toMatchObject({ name: "InputError", input });
      expect((mapped as Error).message).toBe(
        `input '${input}': ${error.problem}; expected ${error.accepted}`,
      );
    }
  });

  test("the root action keeps the stage and names the input", () => {
    const cause = new VersionTagTakenError("r.example/os:1.0", B, A);
    const mapped = asInputError(new PipelineStageError("push", cause.message, { cause }));
    expect(mapped).toBeInstanceOf(PipelineStageError);
    expect((mapped as Error).message).toMatch(
      /^pipeline stage 'push' failed: input 'image-version': r\.example/,
    );
  });

  test("other errors pass through", () => {
    const error = new Error("connection refused");
    expect(asInputError(error)).toBe(error);
  });
});
