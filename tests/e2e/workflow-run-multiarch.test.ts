import { execFile } from "node:child_process";
import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WorkflowRun } from "@frostyard/runner";
import { busyboxStaticDeb, elfMachine, unpackBusybox } from "../helpers/busybox-deb";
import { INSECURE_POLICY } from "../helpers/containers";
import { hostedServicesUnavailable } from "../helpers/hosted-services";
import { sha256Digest } from "../helpers/images";
import { ensureBuilt, repoRoot } from "../helpers/run-action";
import { toolboxUnavailable, TOOLBOX_BUILD_TIMEOUT_MS } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";
import { startWorkflowE2E, type WorkflowE2E } from "../helpers/workflow-e2e";

/**
 * build.yml's multi-arch path end to end through `frostyard-build workflow`'s runner: one image (no
 * profiles) for linux/amd64 and linux/arm64 → build-push per platform (mkosi 25 from the trixie toolbox
 * builds each for the cell's architecture, lint-bootc checks each tree natively, each is pushed by digest
 * under `<version>-<arch>`) → index (publish-index joins both under the version) → sign (recursive: the
 * index and each platform image) → verify → promote `latest` → summary.
 *
 * The arm64 image is really arm64: its only program is Debian's arm64 busybox-static, and the image config
 * says arm64 because mkosi built for arm64. It is made without running any arm64 binary, which this
 * machine cannot (no binfmt_misc, so no qemu-user): tests/fixtures/mkosi/multiarch is a
 * `Distribution=custom` project (no package manager) whose `[Match] Architecture=` sections pick the
 * unpacked .deb of the architecture mkosi is asked for, so both cells take the same code path a real
 * project's do (summary, build, packaging, push) and differ only by the `architecture` build.yml passes.
 * A Debian project for arm64 would need dpkg's maintainer scripts to run, i.e. an arm64 machine.
 *
 * What this does not model of a hosted runner: the native arm64 runner (`runs-on: ubuntu-24.04-arm` is
 * recorded, and the arm64 cell is built on this amd64 machine by mkosi's --architecture instead), a fresh
 * VM per job (cells share this machine's caches, one after another), the real checkout, GitHub's OIDC
 * token (signing is `key`; sign-keyless is skipped), and post steps at job end. tests/e2e/workflow-run.test.ts
 * covers two profiles on one platform and the pull-request path.
 *
 * It takes 2–3.5 min here (2 cores, load average 6–14 from other work), both busybox .debs cached.
 */

const skip =
  toolboxUnavailable() ||
  hostedServicesUnavailable() ||
  missingTools("docker-registry", "skopeo", "jq", "bash", "tar", "zstd", "apt-get", "dpkg-deb");
const CREDENTIALS = { user: "publisher", password: "reg-pass-7c1d30" };
const PASSPHRASE = "workflow-multiarch-passphrase-9e2a";
const VERSION = "2.0";
const PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
/** ELF e_machine of each platform's busybox. */
const ELF_MACHINE = { "linux/amd64": 62, "linux/arm64": 183 } as const;

/** The first `size` bytes of `path` from the first of an image's layers (a `dir:` copy) that holds it. */
async function fileInLayers(dir: string, layers: string[], path: string, size = 64): Promise<Buffer> {
  for (const digest of layers) {
    const blob = join(dir, digest.replace(/^sha256:/, ""));
    const { stdout } = await promisify(execFile)("tar", ["-xzOf", blob, path], {
      encoding: "buffer",
      maxBuffer: 64 << 20,
    }).catch(() => ({ stdout: undefined }));
    if (stdout?.length) return stdout.subarray(0, size);
  }
  throw new Error(`no layer of ${dir} holds ${path}`);
}

describe.skipIf(skip)("build.yml's multi-arch path: two platforms joined in one signed index", () => {
  let e2e: WorkflowE2E;
  let push: WorkflowRun;
  let digests: Record<string, string>;
  const repository = "os";

  beforeAll(async () => {
    for (const action of ["build-mkosi", "lint-bootc", "publish-image", "cosign-sign", "publish-index"])
      ensureBuilt(action);
    const debs = { amd64: await busyboxStaticDeb("amd64"), arm64: await busyboxStaticDeb("arm64") };
    e2e = await startWorkflowE2E({
      scratchPrefix: "frostyard-workflow-multiarch-",
      credentials: CREDENTIALS,
      passphrase: PASSPHRASE,
    });
    const project = join(e2e.scratch, "project");
    await cp(join(repoRoot, "tests/fixtures/mkosi/multiarch"), project, { recursive: true });
    for (const [arch, deb] of Object.entries(debs)) await unpackBusybox(deb, join(project, "busybox", arch));
    push = await e2e.run("push", {
      directory: "project",
      platforms: PLATFORMS.join(","),
      "image-version": VERSION,
    });
    digests = (JSON.parse(push.outputs.digests ?? "{}") as Record<string, Record<string, string>>)[""] ?? {};
  }, TOOLBOX_BUILD_TIMEOUT_MS + 1_200_000);

  afterAll(async () => {
    await e2e?.stop();
  });

  const job = (id: string) => push.jobs.find((j) => j.id === id)!;
  const inspectRaw = async (reference: string) => {
    const result = await e2e.skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      `${CREDENTIALS.user}:${CREDENTIALS.password}`,
      `docker://${e2e.registry.host}/${reference}`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  test("push: both platforms build, lint and push; the index job joins them; sign follows", () => {
    expect(push.failed, push.log.join("\n")).toBe(false);
    expect(push.jobs.map((j) => [j.id, j.result])).toEqual([
      ["plan", "success"],
      ["build", "skipped"],
      ["build-push", "success"],
      ["scan", "skipped"],
      ["index", "success"],
      ["sign-keyless", "skipped"],
      ["sign", "success"],
      ["disk-images", "skipped"],
      ["sysexts", "skipped"],
      ["summary", "success"],
    ]);
    const cells = job("build-push").cells;
    expect(cells.map((c) => [c.matrix.platform, c.matrix.arch, c.result])).toEqual([
      ["linux/amd64", "amd64", "success"],
      ["linux/arm64", "arm64", "success"],
    ]);
    // Recorded as each cell evaluated it, not honoured: both ran here.
    expect(job("build-push").runsOn).toEqual(["ubuntu-24.04", "ubuntu-24.04-arm"]);
    expect(job("index").permissions).toEqual({ packages: "write" });
    expect(job("index").cells.map((c) => c.result)).toEqual(["success"]);
  });

  test("lint-bootc's native checks pass on both trees, with no warning", () => {
    for (const cell of job("build-push").cells) {
      const lint = cell.steps.find((s) => s.uses?.endsWith("/actions/lint-bootc"))!;
      const platform = String(cell.matrix.platform);
      expect(lint.outcome, platform).toBe("success");
      expect(lint.outputs.passed, platform).toBe("true");
      expect(JSON.parse(lint.outputs.failures!), platform).toEqual([]);
      expect(JSON.parse(lint.outputs.warnings!), platform).toEqual([]);
    }
  });

  test("the digest JSON: both platforms and the index; each platform under <version>-<arch>, the index under the version", async () => {
    expect(Object.keys(JSON.parse(push.outputs.digests ?? ""))).toEqual([""]);
    expect(Object.keys(digests).sort()).toEqual(["index", ...PLATFORMS]);
    for (const value of Object.values(digests)) expect(value).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set(Object.values(digests)).size).toBe(3);
    expect(await e2e.digestOf(repository, `${VERSION}-amd64`)).toBe(digests["linux/amd64"]);
    expect(await e2e.digestOf(repository, `${VERSION}-arm64`)).toBe(digests["linux/arm64"]);
    expect(await e2e.digestOf(repository, VERSION)).toBe(digests.index);
  });

  test("the index in the registry lists both platforms with the platform fields of their configs (trixie skopeo)", async () => {
    const index = (await inspectRaw(`${repository}@${digests.index}`)) as {
      mediaType: string;
      manifests: { digest: string; mediaType: string; platform: Record<string, string> }[];
    };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => [m.digest, m.mediaType, m.platform])).toEqual([
      [
        digests["linux/amd64"],
        "application/vnd.oci.image.manifest.v1+json",
        { os: "linux", architecture: "amd64" },
      ],
      [
        digests["linux/arm64"],
        "application/vnd.oci.image.manifest.v1+json",
        { os: "linux", architecture: "arm64", variant: "v8" },
      ],
    ]);
    // Each platform as a client picks it from the index: its config is the one its manifest names, and says
    // the architecture; the program in its layers is built for it.
    await writeFile(join(e2e.keys, "accept.json"), INSECURE_POLICY);
    for (const platform of PLATFORMS) {
      const arch = platform.split("/")[1]!;
      const manifest = (await inspectRaw(`${repository}@${digests[platform]}`)) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      const config = await e2e.skopeo([
        "inspect",
        "--config",
        "--raw",
        "--override-arch",
        arch,
        "--tls-verify=false",
        "--creds",
        `${CREDENTIALS.user}:${CREDENTIALS.password}`,
        `docker://${e2e.registry.host}/${repository}:${VERSION}`,
      ]);
      expect(config.code, config.stderr).toBe(0);
      expect(sha256Digest(config.stdout), platform).toBe(manifest.config.digest);
      expect(JSON.parse(config.stdout), platform).toMatchObject(
        arch === "arm64"
          ? { os: "linux", architecture: "arm64", variant: "v8" }
          : { os: "linux", architecture: "amd64" },
      );
      const out = join(e2e.keys, `image-${arch}`);
      const copied = await e2e.skopeo([
        "copy",
        "--policy",
        join(e2e.keys, "accept.json"),
        "--src-tls-verify=false",
        "--src-creds",
        `${CREDENTIALS.user}:${CREDENTIALS.password}`,
        `docker://${e2e.registry.host}/${repository}@${digests[platform]}`,
        `dir:${out}`,
      ]);
      expect(copied.code, copied.stderr).toBe(0);
      const busybox = await fileInLayers(
        out,
        manifest.layers.map((l) => l.digest),
        "usr/bin/busybox",
      );
      expect(elfMachine(busybox), platform).toBe(ELF_MACHINE[platform]);
    }
  });

  test("index and both images are signed and verify under a sigstoreSigned policy; latest names the index", async () => {
    expect(await e2e.digestOf(repository, "latest")).toBe(digests.index);
    const signatures = [digests.index!, digests["linux/amd64"]!, digests["linux/arm64"]!].map(
      (digest) => `${digest.replace(":", "-")}.sig`,
    );
    expect(await e2e.tags(repository)).toEqual(
      [VERSION, `${VERSION}-amd64`, `${VERSION}-arm64`, "latest", ...signatures].sort(),
    );
    const copy = (policy: string, source: string, out: string, extra: string[] = []) =>
      e2e.skopeo([
        "copy",
        ...extra,
        "--policy",
        policy,
        "--registries.d",
        e2e.keys,
        "--src-tls-verify=false",
        "--src-creds",
        `${CREDENTIALS.user}:${CREDENTIALS.password}`,
        `docker://${e2e.registry.host}/${repository}${source}`,
        `dir:${join(e2e.keys, out)}`,
      ]);
    const policy = await e2e.writePolicy();
    // What a host pulls: latest (the index, its own signature checked) with all of its platforms …
    const all = await copy(policy, ":latest", "pull-all", ["--multi-arch", "all"]);
    expect(all.code, all.stderr).toBe(0);
    // … and each platform image by digest, which needs that image's own signature: the recursive signing.
    for (const platform of PLATFORMS) {
      const pulled = await copy(policy, `@${digests[platform]}`, `pull-${platform.replace("/", "-")}`);
      expect(pulled.code, `${platform}: ${pulled.stderr}`).toBe(0);
    }
    // The policy really checks: under another key the same pull is refused.
    const made = await e2e.skopeo([
      "generate-sigstore-key",
      "--output-prefix",
      join(e2e.keys, "other"),
      "--passphrase-file",
      join(e2e.keys, "passphrase"),
    ]);
    expect(made.code, made.stderr).toBe(0);
    const refused = await copy(await e2e.writePolicy(join(e2e.keys, "other.pub")), ":latest", "pull-other");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/signature/i);
  });

  test("latest moved to the index only after the signatures verified, in the sign job's log", () => {
    const sign = push.log.slice(push.log.findIndex((line) => line.startsWith("── job sign")));
    const target = `${e2e.registry.host}/${repository}`;
    const verified = PLATFORMS.map((p) =>
      sign.findIndex((line) => line.startsWith(`verify ${target}@${digests[p]}`)),
    );
    const verifiedIndex = sign.findIndex((line) => line.startsWith(`verify ${target}@${digests.index}`));
    const promoted = sign.findIndex((line) =>
      line.startsWith(`promoted ${target}:latest → ${digests.index}`),
    );
    expect(
      [verifiedIndex, ...verified].every((i) => i >= 0),
      sign.join("\n"),
    ).toBe(true);
    expect(promoted, sign.join("\n")).toBeGreaterThan(Math.max(verifiedIndex, ...verified));
  });

  test("secrets never reach the log", () => {
    const log = push.log.join("\n");
    expect(log).not.toContain(CREDENTIALS.password);
    expect(log).not.toContain(PASSPHRASE);
    expect(log).not.toContain("ENCRYPTED COSIGN PRIVATE KEY");
  });
});
