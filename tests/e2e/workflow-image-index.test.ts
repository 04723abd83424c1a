import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { CredentialStore, parseReference, RegistryClient, withTag } from "@frostyard/oci";
import {
  IndexEntriesError,
  PlatformMismatchError,
  publishIndex,
  VersionTagTakenError,
} from "@frostyard/publish";
import { INSECURE_POLICY } from "../helpers/containers";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);

/**
 * The multi-arch index step against a real registry (distribution 2.8): two single-platform busybox
 * images (an amd64 and an arm64 config, pushed with skopeo by the test helpers, not by the code under
 * test) become one OCI index pushed by its version tag; skopeo then reads it raw and pulls each
 * platform out of it by --override-arch, as a host of that architecture would.
 */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))("publishIndex", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let work: string;

  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
    work = await mkdtemp(join(tmpdir(), "frostyard-index-"));
    await writeFile(join(work, "policy.json"), INSECURE_POLICY);
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const skopeo = async (...args: string[]) =>
    (await run("skopeo", ["--policy", join(work, "policy.json"), ...args])).stdout;

  async function pushPlatforms(repository: string, content: string) {
    const amd64 = await pushTestImage(registry.host, `${repository}:build-amd64`, {
      content,
      architecture: "amd64",
    });
    const arm64 = await pushTestImage(registry.host, `${repository}:build-arm64`, {
      content,
      architecture: "arm64",
    });
    return { amd64, arm64 };
  }

  test("two platforms become one index under the version tag, readable and pullable per platform by skopeo", async () => {
    const { amd64, arm64 } = await pushPlatforms("acme/os", "index test");
    const logger = recordingLogger();
    const published = await publishIndex({
      client,
      target: parseReference(`${registry.host}/acme/os`),
      version: "1.0",
      images: [
        { platform: "linux/amd64", digest: amd64 },
        { platform: "linux/arm64", digest: arm64 },
      ],
      logger,
    });
    expect(published.tags).toEqual(["1.0"]);
    expect(published.platforms).toEqual([
      { platform: "linux/amd64", digest: amd64 },
      { platform: "linux/arm64", digest: arm64 },
    ]);
    expect(published.image).toBe(`${registry.host}/acme/os@${published.digest}`);

    const raw = await skopeo(
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/acme/os:1.0`,
    );
    const index = JSON.parse(raw);
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m: { digest: string; platform: object }) => [m.digest, m.platform])).toEqual([
      [amd64, { os: "linux", architecture: "amd64" }],
      [arm64, { os: "linux", architecture: "arm64" }],
    ]);
    // The tag names exactly the bytes whose digest publishIndex reported.
    const digest = await skopeo(
      "inspect",
      "--format",
      "{{.Digest}}",
      "--tls-verify=false",
      `docker://${registry.host}/acme/os:1.0`,
    );
    expect(digest.trim()).toBe(published.digest);

    for (const [arch, expected] of [
      ["arm64", arm64],
      ["amd64", amd64],
    ] as const) {
      const out = join(work, `pulled-${arch}`);
      await skopeo(
        "--override-arch",
        arch,
        "--override-os",
        "linux",
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        `docker://${registry.host}/acme/os:1.0`,
        `dir:${out}`,
      );
      const manifest = await readFile(join(out, "manifest.json"));
      const config = JSON.parse(
        await readFile(join(out, JSON.parse(manifest.toString()).config.digest.slice(7)), "utf8"),
      );
      expect(config.architecture).toBe(arch);
      const pulledDigest = (await skopeo("manifest-digest", join(out, "manifest.json"))).trim();
      expect(pulledDigest).toBe(expected);
    }

    // Publishing the same index again is the same manifest under the same tag: allowed, and said so.
    const again = await publishIndex({
      client,
      target: parseReference(`${registry.host}/acme/os`),
      version: "1.0",
      images: [
        { platform: "linux/amd64", digest: amd64 },
        { platform: "linux/arm64", digest: arm64 },
      ],
      logger,
    });
    expect(again.digest).toBe(published.digest);
    expect(logger.lines.join("\n")).toContain(`already holds ${published.digest}`);
  });

  test("an image whose config is another architecture than declared is refused before anything is pushed", async () => {
    const { amd64, arm64 } = await pushPlatforms("acme/mismatch", "mismatch test");
    const target = parseReference(`${registry.host}/acme/mismatch`);
    const attempt = publishIndex({
      client,
      target,
      version: "1.0",
      images: [
        { platform: "linux/arm64", digest: amd64 },
        { platform: "linux/amd64", digest: arm64 },
      ],
      logger: recordingLogger(),
    });
    await expect(attempt).rejects.toBeInstanceOf(PlatformMismatchError);
    await expect(attempt).rejects.toThrow(
      `${amd64} was given as linux/arm64, but its config says linux/amd64`,
    );
    expect(await client.headManifest(withTag(target, "1.0"))).toBeUndefined();
  });

  test("the version tag is immutable: another index under it is refused, a missing platform image named", async () => {
    const { amd64, arm64 } = await pushPlatforms("acme/immutable", "immutable test");
    const target = parseReference(`${registry.host}/acme/immutable`);
    const logger = recordingLogger();
    const first = await publishIndex({
      client,
      target,
      version: "2.0",
      images: [{ platform: "linux/amd64", digest: amd64 }],
      logger,
    });
    const second = publishIndex({
      client,
      target,
      version: "2.0",
      images: [
        { platform: "linux/amd64", digest: amd64 },
        { platform: "linux/arm64", digest: arm64 },
      ],
      logger,
    });
    await expect(second).rejects.toBeInstanceOf(VersionTagTakenError);
    expect((await client.headManifest(withTag(target, "2.0")))?.digest).toBe(first.digest);

    const missing = `sha256:${"0".repeat(64)}`;
    const absent = publishIndex({
      client,
      target,
      version: "3.0",
      images: [{ platform: "linux/amd64", digest: missing }],
      logger,
    });
    await expect(absent).rejects.toBeInstanceOf(IndexEntriesError);
    await expect(absent).rejects.toThrow(
      "is not in the registry; push each platform's image before its index",
    );

    const nested = publishIndex({
      client,
      target,
      version: "3.0",
      images: [{ platform: "linux/amd64", digest: first.digest }],
      logger,
    });
    await expect(nested).rejects.toThrow("is an image index itself");
  });
});
