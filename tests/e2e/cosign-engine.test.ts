import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  buildSignatureManifest,
  COSIGN_DOWNLOADS,
  createLegacySignature,
  dockerConfigJson,
  loadCosignPrivateKey,
  signatureTag,
  type CosignPrivateKey,
} from "@frostyard/cosign";
import { CredentialStore, parseReference, RegistryClient, withTag } from "@frostyard/oci";
import { findDownload, writeToolCacheRecord } from "@frostyard/kit";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { repoRoot, runBuiltAction } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";
import { sharedFixture } from "../helpers/fixtures";

/**
 * `engine: cosign` through the local runner. The cosign CLI cannot be had here (not in Debian, no npm
 * package ships it, no internet), so tests/fixtures/cosign-sign/cosign-standin.mjs stands in for it: it is
 * placed in the runner's tool cache exactly where the pinned install puts cosign 2.6.4, records its argv and
 * whole environment, prints cosign's real output, and pushes the `.sig` image as cosign would. The test
 * asserts the exact argv and environment; verification and promotion afterwards are the action's own, real.
 */
const KEY_FILE = sharedFixture("cosign/keys/cosign-testdata-sigstore-label-password-hello.key");
const PASSWORD = "hello";
const USER = { user: "ci", password: "registry-pass-7d1f" };
const OUTPUT = sharedFixture("cosign/cli-output-v3.0.2/sign-output1.txt");

interface Recorded {
  args: string[];
  env: Record<string, string> & { DOCKER_CONFIG: string };
  dockerConfig: string | null;
}

describe.skipIf(missingTools("docker-registry", "htpasswd", ...IMAGE_TOOLS))(
  "actions/cosign-sign engine: cosign (stand-in CLI)",
  () => {
    let registry: TestRegistry;
    let client: RegistryClient;
    let dir: string;
    let toolDir: string;
    let keyPem: string;
    let key: CosignPrivateKey;

    beforeAll(async () => {
      registry = await startRegistry({ htpasswd: USER });
      const credentials = new CredentialStore({ authFiles: [] });
      credentials.set(registry.host, { username: USER.user, password: USER.password });
      client = new RegistryClient({ credentials });
      dir = await mkdtemp(join(tmpdir(), "cosign-engine-"));
      // Where @actions/tool-cache keeps cosign 2.6.4 for x64: a cached install is used without downloading.
      toolDir = join(dir, "toolcache", "cosign", "2.6.4", "x64");
      await mkdir(toolDir, { recursive: true });
      await copyFile(
        join(repoRoot, "tests/fixtures/cosign-sign/cosign-standin.mjs"),
        join(toolDir, "cosign"),
      );
      await writeFile(`${toolDir}.complete`, "");
      keyPem = await readFile(KEY_FILE, "utf8");
      key = await loadCosignPrivateKey({ pem: keyPem }, PASSWORD);
    });
    afterAll(async () => {
      await registry?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** Prepares what the stand-in pushes for `digest`: the .sig image our own code builds for the same key. */
    async function prepare(record: string, digest: string, fail?: string) {
      const repo = parseReference(`${registry.host}/acme/os`);
      const signature = await createLegacySignature({
        repository: repo,
        manifestDigest: digest,
        signer: key.privateKey,
        annotations: { run: "42" },
      });
      const image = buildSignatureManifest(undefined, signature);
      await writeFile(
        join(toolDir, "standin.json"),
        JSON.stringify({
          record,
          output: OUTPUT,
          ...(fail ? { fail } : {}),
          pushes: {
            [digest]: {
              tag: signatureTag(digest),
              mediaType: image.manifest.mediaType,
              manifest: image.manifestBytes.toString("base64"),
              blobs: [
                { digest: image.manifest.layers[0]!.digest, base64: signature.payload.toString("base64") },
                { digest: image.manifest.config.digest, base64: image.config.toString("base64") },
              ],
            },
          },
        }),
      );
      // A cache hit is used only when the tree hashes as recorded for the pinned download (installTool): the
      // stand-in tree is recorded as if the pinned cosign 2.6.4 had made it.
      await writeToolCacheRecord(toolDir, findDownload(COSIGN_DOWNLOADS, "cosign", "2.6.4", "x64"));
    }

    const run = (tag: string) =>
      runBuiltAction("cosign-sign", {
        workdir: dir,
        keepTemp: true,
        env: { RUNNER_TOOL_CACHE: join(dir, "toolcache"), COSIGN_KEY_CONTENT: keyPem },
        inputs: {
          image: `${registry.host}/acme/os:${tag}`,
          key: "env://COSIGN_KEY_CONTENT",
          password: PASSWORD,
          engine: "cosign",
          annotations: "run=42",
          "promote-tags": "latest",
          registry: registry.host,
          "registry-username": USER.user,
          "registry-password": USER.password,
        },
      });

    const recorded = async (file: string): Promise<Recorded[]> =>
      (await readFile(file, "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Recorded);

    test("cosign gets the digest, the key and password by env only, credentials as a private DOCKER_CONFIG; then native verify and promote", async () => {
      const digest = await pushTestImage(registry.host, "acme/os:1", {
        content: "engine 1",
        credentials: USER,
      });
      const record = join(dir, "record-1.jsonl");
      await prepare(record, digest);
      const result = await run("1");
      try {
        expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
        const [call, ...more] = await recorded(record);
        expect(more).toEqual([]);
        expect(call!.args).toEqual([
          "sign",
          "--yes",
          "--key",
          "env://COSIGN_PRIVATE_KEY",
          "-a",
          "run=42",
          "--allow-insecure-registry",
          "--allow-http-registry",
          `${registry.host}/acme/os@${digest}`,
        ]);
        // The complete environment: nothing of the runner's leaks into cosign, and the secrets are there.
        expect(Object.keys(call!.env).sort()).toEqual(
          ["COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY", "DOCKER_CONFIG", "HOME", "PATH"].sort(),
        );
        expect(call!.env.COSIGN_PRIVATE_KEY).toBe(keyPem);
        expect(call!.env.COSIGN_PASSWORD).toBe(PASSWORD);
        expect(call!.env.DOCKER_CONFIG.startsWith(join(result.tempDir))).toBe(true);
        expect(call!.dockerConfig).toBe(dockerConfigJson(registry.host, USER.user, USER.password));
        expect(call!.args.join(" ")).not.toMatch(/hello|registry-pass|PRIVATE KEY-----/);

        // The post step removed the credentials directory.
        expect(result.postExitCode).toBe(0);
        expect(existsSync(call!.env.DOCKER_CONFIG)).toBe(false);

        expect(result.outputs.verified).toBe("true");
        expect(result.outputs["promoted-tags"]).toBe(JSON.stringify([`${registry.host}/acme/os:latest`]));
        const repo = parseReference(`${registry.host}/acme/os`);
        expect((await client.headManifest(withTag(repo, "latest")))?.digest).toBe(digest);
        expect(result.outputs.signature).toBe(
          `${registry.host}/acme/os:${signatureTag(digest)}@${(await client.headManifest(withTag(repo, signatureTag(digest))))?.digest}`,
        );
        // cosign's own output is streamed into the log; no secret is.
        const log = result.log.join("\n");
        expect(log).toContain("Signing artifact...");
        for (const secret of [PASSWORD, USER.password, keyPem.split("\n")[1]!])
          expect(log).not.toContain(secret);
        expect(result.summary).toContain("engine cosign");
      } finally {
        await rm(result.tempDir, { recursive: true, force: true });
      }
    });

    test("cosign failing: the step fails with cosign's own error, nothing promoted, credentials still removed", async () => {
      const digest = await pushTestImage(registry.host, "acme/os:2", {
        content: "engine 2",
        credentials: USER,
      });
      const record = join(dir, "record-2.jsonl");
      const error = `Error: signing [${registry.host}/acme/os@${digest}]: PUT https://${registry.host}/v2/acme/os/manifests/${signatureTag(digest)}: DENIED: requested access to the resource is denied`;
      await prepare(record, digest, error);
      const before = (
        await client.headManifest(withTag(parseReference(`${registry.host}/acme/os`), "latest"))
      )?.digest;
      const result = await run("2");
      try {
        expect(result.failed).toBe(true);
        const errors = result.annotations
          .filter((a) => a.level === "error")
          .map((a) => a.message)
          .join("\n");
        expect(errors).toContain("cosign sign of");
        expect(errors).toContain("DENIED: requested access to the resource is denied");
        expect(result.outputs["promoted-tags"] ?? "[]").toBe("[]");
        const latest = await client.headManifest(
          withTag(parseReference(`${registry.host}/acme/os`), "latest"),
        );
        expect(latest?.digest).toBe(before);
        const [call] = await recorded(record);
        expect(existsSync(call!.env.DOCKER_CONFIG)).toBe(false);
        expect(result.postExitCode).toBe(0);
      } finally {
        await rm(result.tempDir, { recursive: true, force: true });
      }
    });
  },
);
