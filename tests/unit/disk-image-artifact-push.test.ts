import { describe, expect, test } from "vitest";
import { InputError } from "@frostyard/kit";
import { RegistryAuthError } from "@frostyard/oci";
import { VersionTagTakenError } from "@frostyard/publish";
import {
  artifactFiles,
  artifactSha256Sums,
  parsePushInputs,
  pushInputError,
  pushSummary,
  uniqueDisks,
} from "../../packages/actions/src/disk-image/push";

const NOW = new Date("2026-12-04T17:05:09Z");
const parse = (inputs: Record<string, string>) => parsePushInputs((name) => inputs[name] ?? "", NOW);

describe("disk-image push inputs", () => {
  test.each<[string, Record<string, string>]>([
    ["the defaults", { "push-overwrite": "false" }],
    // A workflow passes the tag and login to every job and sets push-image where it pushes.
    ["a push-tag alone", { "push-tag": "1" }],
    ["a login alone", { "registry-username": "ci", "registry-password": "x" }],
  ])("no push-image, %s: nothing is pushed", (_name, inputs) => {
    expect(parse(inputs)).toBeUndefined();
  });

  test.each<[string, Record<string, string>, { tag: string; overwrite?: boolean; login?: object }]>([
    ["push-tag given", { "push-image": "ghcr.io/acme/os-disks", "push-tag": "1.2.3" }, { tag: "1.2.3" }],
    [
      "image-version when push-tag is empty",
      { "push-image": "ghcr.io/acme/os-disks", "image-version": "42" },
      { tag: "42" },
    ],
    [
      "UTC %Y%m%d%H%M%S when both are empty",
      { "push-image": "ghcr.io/acme/os-disks" },
      { tag: "20261204170509" },
    ],
    [
      "a login for push-image's registry",
      {
        "push-image": "ghcr.io/acme/os-disks",
        "push-tag": "1",
        "registry-username": "ci",
        "registry-password": "s3cret",
      },
      { tag: "1", login: { registryUsername: "ci", registryPassword: "s3cret" } },
    ],
    [
      "overwrite on purpose",
      { "push-image": "ghcr.io/acme/os-disks", "push-tag": "1", "push-overwrite": "true" },
      { tag: "1", overwrite: true },
    ],
  ])("%s", (_name, inputs, expected) => {
    expect(parse(inputs)).toEqual({
      repository: { registry: "ghcr.io", repository: "acme/os-disks" },
      tag: expected.tag,
      overwrite: expected.overwrite ?? false,
      login: expected.login ?? {},
    });
  });

  test.each<[string, Record<string, string>, string, string]>([
    [
      "a tag in push-image",
      { "push-image": "ghcr.io/acme/os-disks:1" },
      "push-image",
      "names a tag or digest",
    ],
    [
      "a digest in push-image",
      { "push-image": `ghcr.io/acme/os-disks@sha256:${"a".repeat(64)}` },
      "push-image",
      "names a tag or digest",
    ],
    ["an unparsable push-image", { "push-image": "ghcr.io/Acme/OS disks" }, "push-image", ""],
    [
      "a floating push-tag",
      { "push-image": "ghcr.io/acme/os-disks", "push-tag": "latest" },
      "push-tag",
      "floating tag",
    ],
    [
      "a push-tag that is no tag",
      { "push-image": "ghcr.io/acme/os-disks", "push-tag": "-1" },
      "push-tag",
      "cannot be an image tag",
    ],
    [
      "push-overwrite without push-image",
      { "push-overwrite": "true" },
      "push-overwrite",
      "push-image is empty",
    ],
    [
      "a user without a password",
      { "push-image": "ghcr.io/acme/os-disks", "registry-username": "ci" },
      "registry-password",
      "its partner",
    ],
    [
      "a push-overwrite that is no boolean",
      { "push-image": "ghcr.io/acme/os-disks", "push-overwrite": "yes" },
      "push-overwrite",
      "",
    ],
  ])("%s is refused on %s", (_name, inputs, input, problem) => {
    let error: unknown;
    try {
      parse(inputs);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(input);
    expect((error as Error).message).toContain(problem);
  });
});

describe("disk-image push errors and files", () => {
  const login = { registryUsername: "ci", registryPassword: "s3cret" };

  test("a used tag becomes push-tag's error", () => {
    const mapped = pushInputError(new VersionTagTakenError("r/os-disks:1", "sha256:a", "sha256:b"), {
      login,
    });
    expect(mapped).toBeInstanceOf(InputError);
    expect((mapped as InputError).input).toBe("push-tag");
    expect((mapped as Error).message).toContain("push-overwrite: true");
  });

  test.each<[string, object, string | undefined, RegExp]>([
    [
      "the given login",
      login,
      "registry-password",
      /^input 'registry-password': the registry answered 401 Unauthorized: r rejected/,
    ],
    ["the auth files", {}, undefined, /^the registry answered 401: r rejected/],
  ])("a 401 with %s names the status", (_name, given, input, message) => {
    const auth = new RegistryAuthError({
      status: 401,
      method: "POST",
      url: "http://r/v2/",
      message: "r rejected the credentials",
    });
    const mapped = pushInputError(auth, { login: given }) as Error;
    expect(mapped.message).toMatch(message);
    expect(mapped instanceof InputError ? mapped.input : undefined).toBe(input);
    expect(mapped.message).not.toContain("s3cret");
  });

  test("anything else passes unchanged", () => {
    const other = new Error("ECONNRESET");
    expect(pushInputError(other, { login })).toBe(other);
  });

  test("the files: every disk with the sha256 the build computed, then SHA256SUMS as text", () => {
    expect(
      artifactFiles(
        [
          { path: "/out/disk.qcow2", sha256: "1".repeat(64) },
          { path: "/out/disk.vmdk", sha256: "2".repeat(64) },
        ],
        "/out/SHA256SUMS",
      ),
    ).toEqual([
      { path: "/out/disk.qcow2", title: "disk.qcow2", sha256: "1".repeat(64) },
      { path: "/out/disk.vmdk", title: "disk.vmdk", sha256: "2".repeat(64) },
      { path: "/out/SHA256SUMS", title: "SHA256SUMS", mediaType: "text/plain" },
    ]);
  });

  test("bootc-image-builder's raw and ami are one file: pushed once", () => {
    const raw = { type: "raw", path: "/out/image/disk.raw" };
    const ami = { type: "ami", path: "/out/image/disk.raw" };
    const qcow2 = { type: "qcow2", path: "/out/qcow2/disk.qcow2" };
    expect(uniqueDisks([raw, ami, qcow2])).toEqual([raw, qcow2]);
  });

  test.each<[string, { path: string; sha256: string }[], string]>([
    [
      "disks at the top (qemu-img, mkosi): the output directory's SHA256SUMS as it is",
      [
        { path: "/out/disk.vmdk", sha256: "2".repeat(64) },
        { path: "/out/disk.qcow2", sha256: "1".repeat(64) },
      ],
      `${"1".repeat(64)}  disk.qcow2\n${"2".repeat(64)}  disk.vmdk\n`,
    ],
    [
      "the builders' per-type directories flattened, as oras and podman write the titles",
      [
        { path: "/out/qcow2/disk.qcow2", sha256: "1".repeat(64) },
        { path: "/out/bootiso/install.iso", sha256: "3".repeat(64) },
      ],
      `${"1".repeat(64)}  disk.qcow2\n${"3".repeat(64)}  install.iso\n`,
    ],
  ])("the artifact's SHA256SUMS: %s", (_name, disks, expected) => {
    expect(artifactSha256Sums(disks)).toBe(expected);
  });

  test("the summary line names the files, the tag and the digest to sign", () => {
    expect(
      pushSummary({
        repository: "ghcr.io/acme/os-disks",
        digest: "sha256:abc",
        image: "ghcr.io/acme/os-disks@sha256:abc",
        tag: "1",
        layers: [
          {
            path: "/o/disk.qcow2",
            title: "disk.qcow2",
            mediaType: "application/octet-stream",
            digest: "sha256:1",
            size: 1,
          },
          {
            path: "/o/SHA256SUMS",
            title: "SHA256SUMS",
            mediaType: "text/plain",
            digest: "sha256:2",
            size: 1,
          },
        ],
        uploadedBytes: 2,
        skippedBlobs: 1,
      }),
    ).toBe(
      "Pushed `disk.qcow2`, `SHA256SUMS` as one OCI artifact to `ghcr.io/acme/os-disks:1`: `sha256:abc` (2 bytes uploaded, 1 blob(s) already there); sign this digest with cosign-sign.",
    );
  });
});
