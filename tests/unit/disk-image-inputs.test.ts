import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_BUILDER_IMAGES } from "@frostyard/disk";
import { InputError } from "@frostyard/kit";
import { parseInputs } from "../../packages/actions/src/disk-image/inputs";
import { BAD_INPUTS } from "../fixtures/disk-builder/bad-inputs";

const SRC = "ghcr.io/acme/os@sha256:" + "a".repeat(64);
const parse = (inputs: Record<string, string>) => parseInputs((name) => inputs[name] ?? "");
const refused = (inputs: Record<string, string>): InputError => {
  try {
    parse(inputs);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(inputs)}`);
};

describe("disk-image inputs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "disk-image-inputs-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test("defaults: image-builder, qcow2, the pinned default builder, the runner's arch, upload on", () => {
    expect(parse({ image: SRC })).toEqual({
      builder: "image-builder",
      image: SRC,
      types: ["qcow2"],
      arch: "amd64",
      builderImage: DEFAULT_BUILDER_IMAGES["image-builder"],
      builderArgs: [],
      bootTest: false,
      bootTimeoutSeconds: 600,
      bootExpect: expect.any(Array),
      bootCommands: [],
      containerStorage: { kind: "auto" },
      name: "disk",
      upload: true,
      artifactName: "disk-image",
      artifactPartSize: 2000 * 1024 * 1024,
    });
  });

  test.each([
    [{}, undefined],
    [{ "output-directory": "disk-output" }, "disk-output"],
    [{ "output-directory": "/mnt/disks" }, "/mnt/disks"],
  ])("output-directory %j: empty is automatic (undefined), a value is kept as given", (inputs, expected) => {
    expect(parse({ image: SRC, ...inputs }).outputDirectory).toBe(expected);
  });

  test.each([
    ["", { kind: "auto" }],
    ["auto", { kind: "auto" }],
    ["default", { kind: "default" }],
    ["/mnt/containers", { kind: "path", path: "/mnt/containers" }],
    ["storage", { kind: "path", path: join(process.cwd(), "storage") }],
  ])("container-storage %j", (value, expected) => {
    expect(parse({ image: SRC, "container-storage": value }).containerStorage).toEqual(expected);
  });

  test.each(["image-builder", "bootc-image-builder"])("%s: the AMI upload's three inputs", (builder) => {
    expect(
      parse({
        builder,
        image: SRC,
        types: "ami, qcow2",
        "aws-ami-name": "frostyard-os 1.2",
        "aws-bucket": "frostyard-amis",
        "aws-region": "eu-central-1",
      }).amiUpload,
    ).toEqual({ name: "frostyard-os 1.2", bucket: "frostyard-amis", region: "eu-central-1" });
    expect(parse({ builder, image: SRC, types: "ami" }).amiUpload).toBeUndefined();
  });

  test.each([
    ["0", 0],
    ["64K", 65536],
    ["1G", 1024 ** 3],
  ])("artifact-part-size %s is %d bytes", (raw, bytes) => {
    expect(parse({ image: SRC, "artifact-part-size": raw }).artifactPartSize).toBe(bytes);
  });

  test.each([
    ["TOML inline", '[[customizations.user]]\nname = "alice"\n', undefined],
    ["JSON inline", '{"customizations": {"user": [{"name": "alice"}]}}', undefined],
    ["a .toml path", '[[customizations.user]]\nname = "alice"\n', "config.toml"],
    ["a .json path", '{"customizations": {"user": [{"name": "alice"}]}}', "config.json"],
  ])("config as %s", async (_, text, file) => {
    let config = text;
    if (file) {
      config = join(dir, file);
      await writeFile(config, text);
    }
    expect(parse({ image: SRC, config }).config).toEqual({ customizations: { user: [{ name: "alice" }] } });
  });

  test("boot commands: one per line, commas and quotes kept, a # after whitespace a comment", () => {
    const commands =
      "grep -q '^ID=debian' /etc/os-release\nsystemctl is-active a.service,b.service  # both\n\n";
    expect(parse({ image: SRC, "boot-test": "true", "boot-commands": commands }).bootCommands).toEqual([
      "grep -q '^ID=debian' /etc/os-release",
      "systemctl is-active a.service,b.service",
    ]);
  });

  test.each(BAD_INPUTS.map((c) => [c.name, c] as const))("refuses %s", (_, c) => {
    const error = refused({ image: SRC, ...c.inputs });
    expect(error.input).toBe(c.input);
    expect(error.message).toContain(`input '${c.input}': ${c.problem}`);
    expect(error.message.endsWith(`; expected ${c.accepted}`)).toBe(true);
  });
});
