import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { containersConfig, type ContainersConfig } from "../helpers/containers";
import { IMAGE_TOOLS, pushMultiArchIndex, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

// The shared helpers other suites build on: check they give what they promise, with skopeo as the judge.
const run = promisify(execFile);
const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe.skipIf(missingTools("docker-registry", "htpasswd", ...IMAGE_TOOLS))("test helpers", () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  let containers: ContainersConfig;

  beforeAll(async () => {
    [open, locked, containers] = await Promise.all([
      startRegistry(),
      startRegistry({ htpasswd: { user: "alice", password: "s3cret" } }),
      containersConfig(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), locked?.stop(), containers?.cleanup()]);
  });

  async function rawManifest(ref: string, ...extra: string[]): Promise<Buffer> {
    const { stdout } = await run(
      "skopeo",
      [
        "inspect",
        "--raw",
        "--policy",
        containers.policyPath,
        "--tls-verify=false",
        ...extra,
        `docker://${ref}`,
      ],
      { env: { ...process.env, ...containers.env }, encoding: "buffer" },
    );
    return stdout;
  }

  test("pushTestImage returns the digest of the manifest the registry serves; content changes it", async () => {
    const first = await pushTestImage(open.host, "helpers/app:v1");
    const second = await pushTestImage(open.host, "helpers/app:v2", { content: "something else" });
    expect(sha256(await rawManifest(`${open.host}/helpers/app:v1`))).toBe(first);
    expect(sha256(await rawManifest(`${open.host}/helpers/app:v2`))).toBe(second);
    expect(second).not.toBe(first);
  });

  test("pushMultiArchIndex pushes an OCI index over an amd64 and an arm64 image", async () => {
    const pushed = await pushMultiArchIndex(open.host, "helpers/multi:v1");
    const raw = await rawManifest(`${open.host}/helpers/multi:v1`);
    expect(sha256(raw)).toBe(pushed.indexDigest);
    const index = JSON.parse(raw.toString()) as {
      mediaType: string;
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => [m.platform.architecture, m.digest])).toEqual([
      ["amd64", pushed.platformDigests.amd64],
      ["arm64", pushed.platformDigests.arm64],
    ]);
    expect(pushed.platformDigests.amd64).not.toBe(pushed.platformDigests.arm64);
  });

  test("an htpasswd registry refuses anonymous pulls and accepts the configured user", async () => {
    const response = await fetch(`${locked.url}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    await expect(pushTestImage(locked.host, "helpers/private:v1")).rejects.toThrow(/skopeo copy .* failed/);
    const digest = await pushTestImage(locked.host, "helpers/private:v1", {
      credentials: locked.credentials,
    });
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("containersConfig points child processes at its own files", async () => {
    expect(await readFile(containers.env.CONTAINERS_CONF!, "utf8")).toContain('runtime = "runc"');
    expect(await readFile(containers.env.CONTAINERS_STORAGE_CONF!, "utf8")).toContain(
      `graphroot = "${containers.dir}/storage"`,
    );
    expect(await readFile(containers.env.CONTAINERS_REGISTRIES_CONF!, "utf8")).toContain(
      'location = "127.0.0.1"',
    );
    expect(JSON.parse(await readFile(containers.authFile, "utf8"))).toEqual({ auths: {} });
  });
});
