import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inputsFrom } from "@frostyard/kit";
import { INSECURE_POLICY } from "../helpers/containers";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";
import { parseInputs, parsePlatformImages } from "../../packages/actions/src/publish-index/inputs";

const run = promisify(execFile);
const D = (c: string) => `sha256:${c.repeat(64)}`;

describe("publish-index inputs", () => {
  test("platform=digest lines", () => {
    expect(parsePlatformImages([`linux/amd64=${D("a")}`, ` linux/arm64/v8 = ${D("b")}`])).toEqual([
      { platform: "linux/amd64", digest: D("a") },
      { platform: "linux/arm64/v8", digest: D("b") },
    ]);
  });
  test.each([
    [{}, "image", /is required/],
    [{ image: "ghcr.io/acme/os:1" }, "image", /names a tag or digest/],
    [{ image: "ghcr.io/acme/os" }, "version", /is required/],
    [{ image: "ghcr.io/acme/os", version: "latest" }, "version", /floating tag name/],
    [{ image: "ghcr.io/acme/os", version: "1.0" }, "images", /is empty/],
    [{ image: "ghcr.io/acme/os", version: "1.0", images: "linux/amd64" }, "images", /is not platform=digest/],
    [{ image: "ghcr.io/acme/os", version: "1.0", images: `amd64=${D("a")}` }, "images", /os\/architecture/],
  ])("%j is refused naming %s", (inputs, input, message) => {
    let error: unknown;
    try {
      parseInputs(inputsFrom(inputs as Record<string, string>));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: "InputError", input });
    expect((error as Error).message).toMatch(message);
  });
});

/**
 * actions/publish-index through the local runner (its action.yml and dist bundle) against a real registry:
 * two single-platform busybox images pushed by the test helpers become one index under the version tag.
 */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))("actions/publish-index", () => {
  let registry: TestRegistry;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), "frostyard-publish-index-"));
    await writeFile(join(work, "policy.json"), INSECURE_POLICY);
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the index is pushed by its version, names both platforms, and a mismatch names the images input", async () => {
    const amd64 = await pushTestImage(registry.host, "acme/os:build-amd64", {
      content: "a",
      architecture: "amd64",
    });
    const arm64 = await pushTestImage(registry.host, "acme/os:build-arm64", {
      content: "a",
      architecture: "arm64",
    });
    const result = await runBuiltAction("publish-index", {
      workdir: work,
      inputs: {
        image: `${registry.host}/acme/os`,
        version: "1.0",
        images: `linux/amd64=${amd64}\nlinux/arm64=${arm64}`,
      },
    });
    expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(result.failed).toBe(false);
    const digest = result.outputs.digest ?? "";
    expect(result.outputs.image).toBe(`${registry.host}/acme/os@${digest}`);
    expect(JSON.parse(result.outputs.platforms ?? "[]")).toEqual([
      { platform: "linux/amd64", digest: amd64 },
      { platform: "linux/arm64", digest: arm64 },
    ]);
    const raw = JSON.parse(
      (
        await run("skopeo", [
          "--policy",
          join(work, "policy.json"),
          "inspect",
          "--raw",
          "--tls-verify=false",
          `docker://${registry.host}/acme/os:1.0`,
        ])
      ).stdout,
    ) as { manifests: { digest: string; platform: { architecture: string } }[] };
    expect(raw.manifests.map((m) => [m.platform.architecture, m.digest])).toEqual([
      ["amd64", amd64],
      ["arm64", arm64],
    ]);
    expect(result.summary).toContain(`| linux/arm64 | \`${arm64}\` |`);

    const wrong = await runBuiltAction("publish-index", {
      workdir: work,
      inputs: { image: `${registry.host}/acme/os`, version: "2.0", images: `linux/arm64=${amd64}` },
    });
    expect(wrong.failed).toBe(true);
    expect(wrong.annotations.find((a) => a.level === "error")?.message).toMatch(
      /^input 'images': sha256:[0-9a-f]{64} was given as linux\/arm64, but its config says linux\/amd64/,
    );
  });
});
