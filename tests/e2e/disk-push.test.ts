import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, open, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  generateCosignKeyPair,
  keySigner,
  keyVerifier,
  signImages,
  verifyInRegistry,
} from "@frostyard/cosign";
import { convertRawDisk, writeSha256Sums, type DiskArtifact } from "@frostyard/disk";
import { recordingLogger } from "@frostyard/kit";
import {
  CredentialStore,
  parseReference,
  RegistryAuthError,
  RegistryClient,
  withDigest,
  withTag,
  type ImageManifest,
  type RepositoryRef,
} from "@frostyard/oci";
import {
  ANNOTATION_TITLE,
  DISK_ARTIFACT_TYPE,
  pushArtifact,
  VersionTagTakenError,
  type ArtifactFile,
} from "@frostyard/publish";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction, type ActionRun } from "../helpers/run-action";
import { ensureToolbox, inToolbox, TOOLBOX_BUILD_TIMEOUT_MS, toolboxUnavailable } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";
import { writeHostPolicy } from "../helpers/host-policy";

/** What disk-image pushes: every disk with its sha256 from the build, and SHA256SUMS. */
function diskFiles(artifacts: readonly DiskArtifact[], sums: string): ArtifactFile[] {
  return [
    ...artifacts.map((a) => ({ path: a.path, sha256: a.sha256 })),
    { path: sums, mediaType: "text/plain" },
  ];
}

// A run may rebuild dist/disk-image first (tests/helpers/run-action.ts); the boot test waits for OVMF's shell.
const RUN_TIMEOUT = 300_000;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * Disks pushed as one OCI artifact to a real registry (distribution 2.8 on 127.0.0.1), read back with
 * trixie's skopeo (bookworm's is too old to matter as an independent reader of artifacts and has sigstore
 * compiled out), signed by digest with the cosign-sign library and verified by our verifier and by
 * containers/image's sigstoreSigned policy. cosign and oras cannot be had here.
 */
describe.skipIf(toolboxUnavailable() || missingTools("docker-registry", "qemu-img", "htpasswd"))(
  "disk artifacts in a real registry",
  () => {
    let dir: string;
    let registry: TestRegistry;
    let locked: TestRegistry;
    let client: RegistryClient;
    let repo: RepositoryRef;
    let artifacts: DiskArtifact[];
    let sums: string;
    let pushedDigest: string;
    const logger = recordingLogger();

    beforeAll(async () => {
      dir = await realpath(await mkdtemp(join(tmpdir(), "disk-push-")));
      [registry, locked] = await Promise.all([
        startRegistry(),
        startRegistry({ htpasswd: { user: "ci", password: "right-password" } }),
        ensureToolbox(),
      ]).then(([r, l]) => [r, l] as const);
      client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
      repo = parseReference(`${registry.host}/acme/os-disks`);
      // A small raw disk with some data, converted by the qemu-img engine as disk-image's builder qemu-img does.
      const raw = join(dir, "src.raw");
      await writeFile(raw, Buffer.alloc(16 * 1024 * 1024));
      await writeFile(raw, Buffer.from("frostyard disk ".repeat(500)), { flag: "r+" });
      const out = join(dir, "out");
      await mkdir(out);
      artifacts = await convertRawDisk({
        source: raw,
        types: ["qcow2"],
        outputDirectory: out,
        name: "disk",
        logger,
      });
      sums = await writeSha256Sums(out, artifacts);
    }, TOOLBOX_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      await Promise.all([registry?.stop(), locked?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const skopeo = (args: string[]) => inToolbox(["skopeo", ...args], { binds: [dir] });

    test("qcow2 + SHA256SUMS pushed as one artifact; skopeo reads the manifest back as pushed", async () => {
      const pushed = await pushArtifact({
        client,
        target: repo,
        tag: "1.0",
        files: diskFiles(artifacts, sums),
        artifactType: DISK_ARTIFACT_TYPE,
        annotations: { "org.opencontainers.image.version": "1.0" },
        logger,
      });
      pushedDigest = pushed.digest;
      expect(pushed.image).toBe(`${registry.host}/acme/os-disks@${pushed.digest}`);
      expect(pushed.skippedBlobs).toBe(0);

      const inspected = await skopeo([
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${registry.host}/acme/os-disks:1.0`,
      ]);
      expect(inspected.code, inspected.stderr).toBe(0);
      expect(`sha256:${sha256(Buffer.from(inspected.stdout))}`).toBe(pushed.digest);
      const manifest = JSON.parse(inspected.stdout) as ImageManifest;
      expect(manifest.artifactType).toBe("application/vnd.frostyard.disk-image.v1");
      expect(manifest.config.mediaType).toBe("application/vnd.oci.empty.v1+json");
      expect(manifest.layers.map((l) => [l.annotations?.[ANNOTATION_TITLE], l.mediaType])).toEqual([
        ["disk.qcow2", "application/octet-stream"],
        ["SHA256SUMS", "text/plain"],
      ]);
      // The layer digest is the file's sha256 as SHA256SUMS lists it.
      const listed = (await readFile(sums, "utf8")).split("  ")[0];
      expect(manifest.layers[0]!.digest).toBe(`sha256:${listed}`);
    });

    test("each layer fetched from the registry is byte for byte the file", async () => {
      const fetched = join(dir, "fetched.qcow2");
      const manifest = (await client.getManifest(withTag(repo, "1.0")))!.manifest as ImageManifest;
      await client.downloadBlob(repo, manifest.layers[0]!.digest, fetched);
      expect(sha256(await readFile(fetched))).toBe(sha256(await readFile(artifacts[0]!.path)));
      expect((await client.getBlob(repo, manifest.layers[1]!.digest)).toString()).toBe(
        await readFile(sums, "utf8"),
      );
    });

    test("the same files under the same tag again: the same digest, nothing uploaded", async () => {
      const again = await pushArtifact({
        client,
        target: repo,
        tag: "1.0",
        files: diskFiles(artifacts, sums),
        artifactType: DISK_ARTIFACT_TYPE,
        annotations: { "org.opencontainers.image.version": "1.0" },
        logger,
      });
      expect(again.digest).toBe(pushedDigest);
      expect(again.uploadedBytes).toBe(0);
      expect(again.skippedBlobs).toBe(3);
    });

    test("other bytes under the same tag are refused before any upload, and the tag keeps its artifact", async () => {
      const other = join(dir, "other.qcow2");
      await writeFile(other, "other bytes");
      const error = await pushArtifact({
        client,
        target: repo,
        tag: "1.0",
        files: [{ path: other, title: "disk.qcow2" }],
        artifactType: DISK_ARTIFACT_TYPE,
        logger,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VersionTagTakenError);
      expect((error as Error).message).toContain(
        `${registry.host}/acme/os-disks:1.0 already exists as ${pushedDigest}`,
      );
      expect(await client.blobExists(repo, `sha256:${sha256(Buffer.from("other bytes"))}`)).toBe(false);
      expect((await client.headManifest(withTag(repo, "1.0")))?.digest).toBe(pushedDigest);
    });

    test("a file whose bytes differ from the sha256 it was given fails the upload", async () => {
      const error = await pushArtifact({
        client,
        target: repo,
        tag: "lie",
        files: [{ path: sums, sha256: "0".repeat(64) }],
        artifactType: DISK_ARTIFACT_TYPE,
        logger,
      }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/sha256:0{64}/);
      expect(await client.headManifest(withTag(repo, "lie"))).toBeUndefined();
    });

    test("a bad credential fails with the registry's 401", async () => {
      const credentials = new CredentialStore({ authFiles: [] });
      credentials.set(locked.host, { username: "ci", password: "wrong-password" });
      const error = await pushArtifact({
        client: new RegistryClient({ credentials }),
        target: parseReference(`${locked.host}/acme/os-disks`),
        tag: "1.0",
        files: diskFiles(artifacts, sums),
        artifactType: DISK_ARTIFACT_TYPE,
        logger,
      }).catch((e: unknown) => e);
      // The entry names the status in its message (push.ts); the library's error carries it.
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as RegistryAuthError).status).toBe(401);
      expect((error as Error).message).toContain(`${locked.host} rejected the credentials`);
      expect((error as Error).message).not.toContain("wrong-password");
    });

    test("signed by digest with cosign-sign's library; our verifier and skopeo's sigstoreSigned policy accept it", async () => {
      const keys = await generateCosignKeyPair("pw");
      const image = `${registry.host}/acme/os-disks@${pushedDigest}`;
      const report = await signImages({
        client,
        images: [image],
        signer: keySigner(keys),
        format: "legacy",
        recursive: false,
        annotations: {},
        promoteTags: [],
        logger,
      });
      expect(report.failure).toBeUndefined();
      expect(report.verified).toBe(true);
      const verdict = await verifyInRegistry(
        client,
        repo,
        pushedDigest,
        "legacy",
        keyVerifier(keys.publicKey),
      );
      expect(verdict).toEqual({ verified: true, messages: [expect.stringMatching(/^legacy: 1 of 1/)] });
      const stranger = await generateCosignKeyPair("pw");
      expect(
        (await verifyInRegistry(client, repo, pushedDigest, "legacy", keyVerifier(stranger.publicKey)))
          .verified,
      ).toBe(false);

      // containers/image copies an artifact as long as no manifest conversion is needed (dir: keeps it as is).
      await writeFile(join(dir, "cosign.pub"), keys.publicKeyPem);
      await writeFile(join(dir, "stranger.pub"), stranger.publicKeyPem);
      await writeFile(
        join(dir, "registries.yaml"),
        `docker:\n  ${registry.host}:\n    use-sigstore-attachments: true\n`,
      );
      const copy = async (keyFile: string, out: string) => {
        const policy = await writeHostPolicy(join(dir, `${out}.policy.json`), registry.host, keyFile);
        return skopeo([
          "copy",
          "--policy",
          policy,
          "--registries.d",
          dir,
          "--src-tls-verify=false",
          `docker://${registry.host}/acme/os-disks:1.0`,
          `dir:${join(dir, out)}`,
        ]);
      };
      const accepted = await copy(join(dir, "cosign.pub"), "copied");
      expect(accepted.code, accepted.stderr).toBe(0);
      const copied = await readFile(join(dir, "copied", "manifest.json"));
      expect(`sha256:${sha256(copied)}`).toBe(pushedDigest);
      // dir: names each blob by its hex digest: the qcow2 arrived whole.
      expect(sha256(await readFile(join(dir, "copied", artifacts[0]!.sha256)))).toBe(artifacts[0]!.sha256);
      const refused = await copy(join(dir, "stranger.pub"), "refused");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/invalid signature|signature/i);
    });

    test("a 384 MiB disk streams up in chunks: memory stays well below its size, the registry's blob is the file", async () => {
      // Generated, not sparse zeros: a registry or filesystem must not get away with deduplicating it.
      const big = join(dir, "big.raw");
      const handle = await open(big, "w");
      const block = Buffer.alloc(8 * 1024 * 1024);
      for (let i = 0; i < 48; i++) {
        block.fill(i);
        block.writeUInt32BE(i, 0);
        await handle.write(block);
      }
      await handle.close();
      const size = 48 * block.length;
      let peak = 0;
      const started = Date.now();
      let peakRss = 0;
      // Live Buffers after a full GC: what the push holds, not garbage the GC has not got round to yet.
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as () => void;
      gc();
      const base = process.memoryUsage();
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss - base.rss);
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base.arrayBuffers);
      }, 250);
      try {
        const pushed = await pushArtifact({
          client,
          target: repo,
          tag: "big",
          files: [{ path: big }],
          artifactType: DISK_ARTIFACT_TYPE,
          logger,
        });
        expect(pushed.layers[0]!.size).toBe(size);
        // Plus the 2-byte {} config when this test runs alone.
        expect([size, size + 2]).toContain(pushed.uploadedBytes);
        const head = await fetch(`${registry.url}/v2/acme/os-disks/blobs/${pushed.layers[0]!.digest}`, {
          method: "HEAD",
        });
        expect(Number(head.headers.get("content-length"))).toBe(size);
      } finally {
        clearInterval(sampler);
      }
      // A 32 MiB-chunked upload holds a few chunks (assembled, being sent, the transport's copy: about
      // 100 MiB measured), never the file: the bound is half of it and does not grow with it.
      expect(peak).toBeLessThan(192 * 1024 * 1024);
      const elapsed = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `384 MiB artifact push: live buffers at most ${(peak / 1024 / 1024).toFixed(0)} MiB, peak RSS growth ${(peakRss / 1024 / 1024).toFixed(0)} MiB, ${elapsed} s; load ${execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).trim()}`,
      );
    }, 300_000);

    /** disk-image as it ships (action.yml + dist bundle) through the local runner, builder qemu-img. */
    const runDiskImage = (inputs: Record<string, string>) =>
      runBuiltAction("disk-image", {
        inputs: {
          builder: "qemu-img",
          "source-disk": join(dir, "src.raw"),
          types: "qcow2",
          upload: "false",
          ...inputs,
        },
        workdir: dir,
        inheritEnv: true,
        timeoutMs: RUN_TIMEOUT,
      });
    /** Lines that show a secret: the runner's log, and the raw output apart from the mask command itself. */
    const leaked = (run: ActionRun, secret: string) =>
      [
        ...run.log,
        ...`${run.stdout}\n${run.stderr}`.split("\n").filter((l) => !l.startsWith("::add-mask::")),
      ].filter((line) => line.includes(secret));
    const errorsOf = (run: ActionRun) =>
      run.annotations.filter((a) => a.level === "error").map((a) => a.message);

    test(
      "through the local runner: pushed with a login, outputs digest and image, the password masked",
      async () => {
        const run = await runDiskImage({
          "output-directory": "runner-out",
          "push-image": `${locked.host}/acme/os-disks`,
          "push-tag": "run-1",
          "registry-username": "ci",
          "registry-password": "right-password",
        });
        expect(run.exitCode, errorsOf(run).join("\n") + run.stderr).toBe(0);
        const digest = run.outputs.digest!;
        expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(run.outputs.image).toBe(`${locked.host}/acme/os-disks@${digest}`);
        const artifacts = JSON.parse(run.outputs.artifacts!) as {
          type: string;
          digest: string;
          image: string;
        }[];
        expect(artifacts.map((a) => [a.type, a.digest, a.image])).toEqual([
          ["qcow2", digest, run.outputs.image],
        ]);
        expect(run.summary).toContain(`\`${locked.host}/acme/os-disks:run-1\`: \`${digest}\``);
        expect(run.masks).toContain("right-password");
        expect(leaked(run, "right-password")).toEqual([]);

        const credentials = new CredentialStore({ authFiles: [] });
        credentials.set(locked.host, { username: "ci", password: "right-password" });
        const reader = new RegistryClient({ credentials });
        const lockedRepo = parseReference(`${locked.host}/acme/os-disks`);
        const held = await reader.getManifest(withTag(lockedRepo, "run-1"));
        expect(held?.digest).toBe(digest);
        const layers = (held!.manifest as ImageManifest).layers;
        expect(layers.map((l) => l.annotations?.[ANNOTATION_TITLE])).toEqual(["disk.qcow2", "SHA256SUMS"]);
        const sums = await readFile(join(dir, "runner-out", "SHA256SUMS"), "utf8");
        expect(sums).toContain(`${layers[0]!.digest.slice("sha256:".length)}  disk.qcow2`);
        // Disks at the top of the output directory: the artifact's SHA256SUMS is the output directory's.
        expect((await reader.getBlob(lockedRepo, layers[1]!.digest)).toString()).toBe(sums);
      },
      RUN_TIMEOUT,
    );

    test(
      "through the local runner: a wrong password fails on registry-password naming the registry's 401",
      async () => {
        const run = await runDiskImage({
          "output-directory": "runner-bad",
          "push-image": `${locked.host}/acme/os-disks`,
          "push-tag": "run-2",
          "registry-username": "ci",
          "registry-password": "wrong-password",
        });
        expect(run.exitCode).not.toBe(0);
        expect(errorsOf(run).join("\n")).toMatch(
          /input 'registry-password': the registry answered 401 Unauthorized/,
        );
        expect(leaked(run, "wrong-password")).toEqual([]);
        expect(run.outputs.digest ?? "").toBe("");
      },
      RUN_TIMEOUT,
    );

    test.skipIf(missingTools("qemu-system-x86_64") || !existsSync("/usr/share/OVMF/OVMF_CODE_4M.fd"))(
      "through the local runner: a disk that fails its boot test is not pushed",
      async () => {
        // src.raw has no partition table: OVMF finds nothing to boot and drops to its shell.
        const run = await runDiskImage({
          "output-directory": "runner-noboot",
          "boot-test": "true",
          "boot-timeout": "120",
          "push-image": `${registry.host}/acme/os-disks`,
          "push-tag": "unbootable",
        });
        expect(run.exitCode).not.toBe(0);
        expect(errorsOf(run).join("\n")).toContain("boot test failed: the disks are not published");
        expect(await client.headManifest(withTag(repo, "unbootable"))).toBeUndefined();
        expect(run.outputs.digest ?? "").toBe("");
      },
      RUN_TIMEOUT,
    );

    test("the artifact is addressable by digest as the signature names it", async () => {
      const byDigest = await client.getManifest(withDigest(repo, pushedDigest));
      expect(byDigest?.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    });
  },
);
