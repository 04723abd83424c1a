import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fetchLegacySignatures, keyVerifier, parsePublicKey } from "@frostyard/cosign";
import { RegistryClient, serveLayout } from "@frostyard/oci";
import { sharedFixture } from "../helpers/fixtures";
import { copyTestProject } from "../helpers/mkosi-project";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction, type ActionRun } from "../helpers/run-action";
import {
  ensureToolbox,
  toolboxUnavailable,
  TOOLBOX_BUILD_TIMEOUT_MS,
  type Toolbox,
} from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";

/**
 * The root action (the whole pipeline as one step) through the local runner on the small mkosi test
 * project: one cold build into the embedded OCI-layout registry with a throwaway key, then a warm run from
 * that build's cache against a real registry with a fixture key. Bad input fails before building.
 */

const run = promisify(execFile);
const skip = toolboxUnavailable() || missingTools("docker-registry", "skopeo", "tar", "zstd");
const CREDENTIALS = { user: "pipeline", password: "reg-pass-7e21aa" };
const KEY_FILE = sharedFixture("cosign/keys/cosign-testdata-sigstore-label-password-hello.key");
const PUB_FILE = sharedFixture("cosign/keys/cosign-testdata-sigstore-label-password-hello.derived.pub");
const EPOCH = "1735689600";

/** The digest skopeo reads for a reference in a test registry (password auth, plain HTTP). */
async function digestOf(reference: string): Promise<string> {
  const { stdout } = await run("skopeo", [
    "inspect",
    "--tls-verify=false",
    `--creds=${CREDENTIALS.user}:${CREDENTIALS.password}`,
    `docker://${reference}`,
  ]);
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}

interface LayoutIndex {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

describe.skipIf(skip)("the root action: build → lint → push → sign → verify → promote", () => {
  let toolbox: Toolbox;
  let scratch: string;
  let project: string;
  let embedded: ActionRun;

  const pipeline = (inputs: Record<string, string>) =>
    runBuiltAction(".", {
      workdir: scratch,
      env: {
        ...toolbox.env,
        FROSTYARD_TOOLBOX_BINDS: scratch,
        FROSTYARD_BUILD_CACHE: join(scratch, "build-cache"),
      },
      inputs: {
        directory: project,
        profiles: "extra",
        "mkosi-ref": "system",
        "source-date-epoch": EPOCH,
        ...inputs,
      },
      timeoutMs: 600_000,
    });

  beforeAll(async () => {
    toolbox = await ensureToolbox();
    scratch = await mkdtemp(join(tmpdir(), "frostyard-pipeline-"));
    project = await copyTestProject(scratch);
    // The test project is a plain Debian tree, not a bootc base image (no /sysroot): that one lint is skipped.
    embedded = await pipeline({
      "work-directory": join(scratch, "work"),
      "image-version": "1.0",
      "lint-skip": "baseimage-root",
    });
  }, TOOLBOX_BUILD_TIMEOUT_MS + 600_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("no image, no key: the embedded layout registry holds the signed image, latest promoted", async () => {
    expect(embedded.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(embedded.failed).toBe(false);
    const digest = embedded.outputs.digest ?? "";
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const layout = join(scratch, "work/registry");
    expect(embedded.outputs["registry-layout"]).toBe(layout);
    expect(embedded.outputs.image).toBe(`oci:${layout}:1.0`);
    expect(embedded.outputs["lint-passed"]).toBe("true");
    expect(embedded.outputs.verified).toBe("true");
    expect(embedded.outputs["public-key"]).toBe(join(scratch, "work/output/cosign.pub"));

    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as LayoutIndex;
    const byName = new Map(
      index.manifests.map((m) => [m.annotations?.["org.opencontainers.image.ref.name"], m.digest]),
    );
    expect(byName.get("1.0")).toBe(digest);
    expect(byName.get("latest")).toBe(digest);
    expect(byName.has(`${digest.replace(":", "-")}.sig`)).toBe(true);

    // The signature verifies with the public key as written, read back from the layout served again. It
    // names the repository the run pushed to (the loopback port of that run), which the signature output says.
    const signedAs =
      /^(127\.0\.0\.1:\d+)\/(frostyard\/frostyard-test):sha256-[0-9a-f]{64}\.sig@sha256:[0-9a-f]{64}$/.exec(
        embedded.outputs.signature ?? "",
      );
    expect(signedAs).not.toBeNull();
    const expected = {
      manifestDigest: digest,
      repository: { registry: signedAs![1]!, repository: signedAs![2]! },
    };
    const served = await serveLayout({ layout, repository: "frostyard/frostyard-test" });
    try {
      const signatures = await fetchLegacySignatures(
        new RegistryClient(),
        { registry: served.host, repository: "frostyard/frostyard-test" },
        digest,
      );
      expect(signatures).toHaveLength(1);
      const publicKey = parsePublicKey(await readFile(embedded.outputs["public-key"] ?? "", "utf8"));
      expect(await keyVerifier(publicKey).legacy(signatures, expected)).toMatchObject({ ok: true });
      // Not with another key, nor for another digest: the check can fail.
      const other = parsePublicKey(await readFile(PUB_FILE, "utf8"));
      expect(await keyVerifier(other).legacy(signatures, expected)).toMatchObject({ ok: false });
      const elsewhere = { ...expected, manifestDigest: `sha256:${"0".repeat(64)}` };
      expect(await keyVerifier(publicKey).legacy(signatures, elsewhere)).toMatchObject({ ok: false });
    } finally {
      await served.close();
    }

    // Every stage timed in the summary; the throwaway private key never written anywhere.
    for (const stage of ["build", "lint", "push", "sign", "verify", "promote"]) {
      expect(embedded.summary).toMatch(new RegExp(`\\| ${stage} \\| [\\d.]+ (s|ms|min)`));
    }
    expect(embedded.summary).toContain("throwaway key sha256:");
    const { stdout } = await run("grep", [
      "-rl",
      "ENCRYPTED SIGSTORE PRIVATE KEY",
      join(scratch, "work"),
    ]).catch(() => ({
      stdout: "",
    }));
    expect(stdout).toBe("");
  });

  test("warm run from the cache against a real registry with a fixture key: skopeo sees the pushed digest", async () => {
    let registry: TestRegistry | undefined;
    try {
      registry = await startRegistry({ htpasswd: CREDENTIALS });
      const result = await pipeline({
        "work-directory": join(scratch, "work2"),
        "image-version": "2.0",
        image: `${registry.host}/os/pipeline`,
        "registry-username": CREDENTIALS.user,
        "registry-password": CREDENTIALS.password,
        key: KEY_FILE,
        password: "hello",
        "lint-skip": "baseimage-root",
        "promote-tags": "latest, stable",
      });
      expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(result.failed).toBe(false);
      expect(result.summary).toMatch(/\| cache \| hit `mkosi-25\.3-debian-trixie-x86-64-/);
      // The fresh registry has no predecessor: the image the cold run kept in the build cache is the previous
      // one. Same packages, so every layer is taken over but the one holding os-release (mkosi writes the
      // image version there), and a host downloads only that.
      const update = JSON.parse(result.outputs.update ?? "{}") as {
        previous: string;
        bytes: number;
        layers: number;
        totalLayers: number;
        changed: { size: number }[];
        packages?: unknown[];
      };
      expect(update.previous).toBe("the last build kept in the build cache");
      expect(update.layers).toBeGreaterThan(0);
      expect(update.layers).toBeLessThan(update.totalLayers / 2);
      expect(update.bytes).toBe(update.changed.reduce((sum, l) => sum + l.size, 0));
      expect(result.outputs["update-bytes"]).toBe(String(update.bytes));
      expect(result.outputs["update-layers"]).toBe(String(update.layers));
      expect(update.packages).toEqual([]);
      expect(result.summary).toContain(
        `(${update.totalLayers - update.layers} taken over from the previous image)`,
      );
      expect(result.summary).toContain("No package changed version.");
      const digest = result.outputs.digest ?? "";
      expect(result.outputs.image).toBe(`${registry.host}/os/pipeline@${digest}`);
      expect(result.log.join("\n")).not.toContain(CREDENTIALS.password);
      const inspect = (tag: string) => digestOf(`${registry!.host}/os/pipeline:${tag}`);
      expect(await inspect("2.0")).toBe(digest);
      expect(await inspect("latest")).toBe(digest);
      expect(await inspect("stable")).toBe(digest);
      // The legacy signature tag exists next to the image, signed by the fixture key.
      expect(await inspect(`${digest.replace(":", "-")}.sig`)).toMatch(/^sha256:/);
      expect(await readFile(result.outputs["public-key"] ?? "", "utf8")).toBe(
        await readFile(PUB_FILE, "utf8"),
      );
    } finally {
      await registry?.stop();
    }
  }, 300_000);

  test("a Format=oci project: mkosi's layout linted from its layers, pushed, signed, verified, promoted", async () => {
    let registry: TestRegistry | undefined;
    try {
      registry = await startRegistry({ htpasswd: CREDENTIALS });
      const result = await pipeline({
        "work-directory": join(scratch, "work-oci"),
        "image-version": "4.0",
        args: "--format=oci",
        image: `${registry.host}/os/oci`,
        "registry-username": CREDENTIALS.user,
        "registry-password": CREDENTIALS.password,
        key: KEY_FILE,
        password: "hello",
        "lint-skip": "baseimage-root",
        "promote-tags": "latest",
      });
      expect(result.annotations.filter((a) => a.level === "error")).toEqual([]);
      expect(result.failed).toBe(false);
      const layout = join(scratch, "work-oci/output/frostyard-test_4.0");
      expect(result.outputs["oci-layout"]).toBe(layout);
      expect(result.outputs.rootfs).toBe("");
      expect(result.outputs["lint-passed"]).toBe("true");
      const digest = result.outputs.digest ?? "";
      expect(result.log.join("\n")).toContain(`lint ${layout} (${digest}, unpacked)`);
      expect(existsSync(`${layout}.lint-rootfs`)).toBe(false);
      expect(result.outputs.verified).toBe("true");
      expect(JSON.parse(result.outputs["promoted-tags"] ?? "[]")).toEqual([`${registry.host}/os/oci:latest`]);
      const inspect = (tag: string) => digestOf(`${registry!.host}/os/oci:${tag}`);
      // mkosi's own manifest, as named in its layout, is what the registry holds under every tag.
      const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as LayoutIndex;
      expect(index.manifests.map((m) => m.digest)).toEqual([digest]);
      expect(await inspect("4.0")).toBe(digest);
      expect(await inspect("latest")).toBe(digest);
      expect(await inspect(`${digest.replace(":", "-")}.sig`)).toMatch(/^sha256:/);
    } finally {
      await registry?.stop();
    }
  }, 300_000);

  test("a Format=oci image is linted from its layers: the unpacked tree lacks /sysroot like the build's", async () => {
    const result = await pipeline({
      "work-directory": join(scratch, "work-oci-lint"),
      "image-version": "4.1",
      args: "--format=oci",
    });
    expect(result.failed).toBe(true);
    const errors = result.annotations.filter((a) => a.level === "error").map((a) => a.message);
    expect(errors).toEqual([
      expect.stringMatching(
        /^pipeline stage 'lint' failed: 1 finding\(s\) fail the image: baseimage-root \(Missing \/sysroot\); nothing was pushed$/,
      ),
    ]);
    expect(result.outputs.image).toBe("");
  }, 300_000);

  test("a failing lint stops the pipeline before anything is pushed or signed", async () => {
    const result = await pipeline({ "work-directory": join(scratch, "work3"), "image-version": "3.0" });
    expect(result.failed).toBe(true);
    const errors = result.annotations.filter((a) => a.level === "error").map((a) => a.message);
    expect(errors).toEqual([
      expect.stringMatching(
        /^pipeline stage 'lint' failed: 1 finding\(s\) fail the image: baseimage-root \(Missing \/sysroot\); nothing was pushed$/,
      ),
    ]);
    expect(result.outputs["lint-passed"]).toBe("false");
    expect(result.outputs.image).toBe("");
    expect(result.outputs.signature).toBe("");
    expect(existsSync(join(scratch, "work3/registry"))).toBe(false);
    expect(result.summary).toContain("**Failed:** pipeline stage 'lint' failed");
  }, 300_000);
});

describe("the root action refuses bad input before building", () => {
  test.each<{ inputs: Record<string, string>; message: RegExp }>([
    { inputs: { format: "cosign-v3" }, message: /input 'format'.*cosign-v3/ },
    { inputs: { key: KEY_FILE }, message: /input 'password': is empty while 'key' is set/ },
    { inputs: { "lint-skip": "no-such-lint" }, message: /input 'lint-skip'.*no-such-lint/ },
  ])("$message", async ({ inputs, message }) => {
    const scratch = await mkdtemp(join(tmpdir(), "frostyard-pipeline-bad-"));
    try {
      const result = await runBuiltAction(".", {
        workdir: scratch,
        inputs: { directory: scratch, "work-directory": join(scratch, "work"), ...inputs },
        env: { FROSTYARD_BUILD_CACHE: join(scratch, "cache") },
      });
      expect(result.failed).toBe(true);
      const errors = result.annotations.filter((a) => a.level === "error").map((a) => a.message);
      expect(errors).toEqual([expect.stringMatching(message)]);
      expect(result.log.join("\n")).not.toMatch(/mkosi build|install mkosi/);
      expect(result.outputs.digest ?? "").toBe("");
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
