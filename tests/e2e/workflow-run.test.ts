import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WorkflowRun } from "@frostyard/runner";
import { hostedServicesUnavailable } from "../helpers/hosted-services";
import { copyTestProject } from "../helpers/mkosi-project";
import { ensureBuilt } from "../helpers/run-action";
import { toolboxUnavailable, TOOLBOX_BUILD_TIMEOUT_MS } from "../helpers/toolbox";
import { missingTools } from "../helpers/tools";
import { startWorkflowE2E, type WorkflowE2E } from "../helpers/workflow-e2e";

/**
 * The reusable workflow (.github/workflows/build.yml) end to end through `frostyard-build workflow`'s
 * runner: plan → build-push per profile (two profiles × linux/amd64, mkosi 25 from the trixie toolbox, a
 * real registry with password auth) → sign (key-based, with a key pair made by the trixie skopeo) →
 * summary, every `${{ }}` through @actions/expressions, digests carried per cell as artifacts through the
 * loopback artifact service. A bootc host's check is the trixie skopeo pulling under a `sigstoreSigned`
 * policy. Then the pull-request path with the same inputs: it builds and lints, and the registry is left
 * exactly as it was.
 *
 * What this does not model of a hosted runner: `runs-on` (recorded; every cell runs here, one after
 * another, none in parallel), a fresh VM per job (jobs share this machine's tool and mkosi caches), the
 * real checkout (the workspace is the checkout), GitHub's OIDC token (so sign-keyless is not run:
 * signing is `key`), and post steps at job end (they run right after their main step). One platform
 * here, so the index job is skipped: tests/e2e/workflow-run-multiarch.test.ts runs the multi-arch path
 * (linux/amd64 and linux/arm64, joined in an index).
 */

const skip =
  toolboxUnavailable() ||
  hostedServicesUnavailable() ||
  missingTools("docker-registry", "skopeo", "jq", "bash", "tar", "zstd");
const CREDENTIALS = { user: "publisher", password: "reg-pass-2b7e91" };
const PASSPHRASE = "workflow-e2e-passphrase-41c9";
const VERSION = "1.0";
const PROFILES = ["extra", "small"];

describe.skipIf(skip)("build.yml end to end through the local workflow runner", () => {
  let e2e: WorkflowE2E;
  let registry: WorkflowE2E["registry"];
  let keys: string;
  let push: WorkflowRun;
  let catalogAfterPush: string[];
  const tagsAfterPush: Record<string, string[]> = {};

  const catalog = () => e2e.catalog();
  const tags = (repository: string) => e2e.tags(repository);
  const digestOf = (repository: string, tag: string) => e2e.digestOf(repository, tag);

  const workflow = (event: "push" | "pull_request") =>
    e2e.run(event, {
      directory: "project",
      profiles: PROFILES.join(","),
      "image-version": VERSION,
    });

  beforeAll(async () => {
    for (const action of ["build-mkosi", "lint-bootc", "publish-image", "cosign-sign", "publish-index"])
      ensureBuilt(action);
    e2e = await startWorkflowE2E({
      scratchPrefix: "frostyard-workflow-e2e-",
      credentials: CREDENTIALS,
      passphrase: PASSPHRASE,
    });
    ({ registry, keys } = e2e);
    const project = await copyTestProject(e2e.scratch);
    // A second profile that adds nothing, so two images are built from one cache; and /sysroot with the
    // /ostree link, which a bootc base has and lint-bootc's baseimage-root requires (the test project is a
    // plain Debian tree, and build.yml has no input to skip a lint).
    await mkdir(join(project, "mkosi.profiles/small"), { recursive: true });
    await writeFile(join(project, "mkosi.profiles/small/mkosi.conf"), "# Profile small: the base as is.\n");
    await mkdir(join(project, "mkosi.extra/sysroot/ostree"), { recursive: true });
    await symlink("sysroot/ostree", join(project, "mkosi.extra/ostree"));
    push = await workflow("push");
    catalogAfterPush = await catalog();
    for (const repository of catalogAfterPush) tagsAfterPush[repository] = await tags(repository);
  }, TOOLBOX_BUILD_TIMEOUT_MS + 1_800_000);

  afterAll(async () => {
    await e2e?.stop();
  });

  const job = (run: WorkflowRun, id: string) => run.jobs.find((j) => j.id === id)!;

  test("push: the jobs that publish run in needs order and succeed; the rest are skipped by their if:", () => {
    expect(push.failed, push.log.join("\n")).toBe(false);
    expect(push.jobs.map((j) => [j.id, j.result])).toEqual([
      ["plan", "success"],
      ["build", "skipped"],
      ["build-push", "success"],
      ["scan", "skipped"],
      ["index", "skipped"],
      ["sign-keyless", "skipped"],
      ["sign", "success"],
      ["disk-images", "skipped"],
      ["sysexts", "skipped"],
      ["summary", "success"],
    ]);
    expect(job(push, "build-push").cells.map((c) => c.name)).toEqual([
      "build-push (extra, linux/amd64, amd64, ubuntu-24.04, 127.0.0.1:PORT/os/extra, 127.0.0.1:PORT, extra-amd64)".replaceAll(
        "127.0.0.1:PORT",
        registry.host,
      ),
      "build-push (small, linux/amd64, amd64, ubuntu-24.04, 127.0.0.1:PORT/os/small, 127.0.0.1:PORT, small-amd64)".replaceAll(
        "127.0.0.1:PORT",
        registry.host,
      ),
    ]);
    // runs-on is recorded as each cell evaluated it, not honoured.
    expect(job(push, "build-push").runsOn).toEqual(["ubuntu-24.04", "ubuntu-24.04"]);
    expect(job(push, "build-push").permissions).toEqual({ contents: "read", packages: "write" });
    expect(job(push, "sign").permissions).toEqual({ packages: "write" });
    expect(job(push, "sign").idToken).toBe(false);
  });

  test("the per-profile digest JSON: each profile's platform digest, the one the registry holds under the version", async () => {
    const digests = JSON.parse(push.outputs.digests ?? "") as Record<string, Record<string, string>>;
    expect(Object.keys(digests).sort()).toEqual(PROFILES);
    for (const profile of PROFILES) {
      expect(Object.keys(digests[profile]!)).toEqual(["linux/amd64"]);
      const digest = digests[profile]!["linux/amd64"]!;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await digestOf(`os/${profile}`, VERSION)).toBe(digest);
    }
    expect(digests.extra!["linux/amd64"]).not.toBe(digests.small!["linux/amd64"]);
    expect(push.outputs["image-version"]).toBe(VERSION);
    expect(job(push, "summary").cells[0]!.summary).toContain(`## frostyard build ${VERSION}`);
  });

  test("signatures verify with the trixie skopeo under a sigstoreSigned policy; latest is the signed digest", async () => {
    const digests = JSON.parse(push.outputs.digests ?? "") as Record<string, Record<string, string>>;
    const policy = await e2e.writePolicy();
    for (const profile of PROFILES) {
      const digest = digests[profile]!["linux/amd64"]!;
      expect(await digestOf(`os/${profile}`, "latest")).toBe(digest);
      expect(tagsAfterPush[`os/${profile}`]).toEqual(
        [VERSION, "latest", `${digest.replace(":", "-")}.sig`].sort(),
      );
      const out = join(keys, `pull-${profile}`);
      const pulled = await e2e.skopeo([
        "copy",
        "--policy",
        policy,
        "--registries.d",
        keys,
        "--src-tls-verify=false",
        "--src-creds",
        `${CREDENTIALS.user}:${CREDENTIALS.password}`,
        `docker://${registry.host}/os/${profile}:latest`,
        `dir:${out}`,
      ]);
      expect(pulled.code, pulled.stderr).toBe(0);
    }
  });

  test("latest moved only after the signature verified: in the sign job's log, verification comes first", () => {
    const sign = push.log.slice(push.log.findIndex((line) => line.startsWith("── job sign (")));
    for (const profile of PROFILES) {
      const cell = sign.slice(sign.findIndex((line) => line.startsWith(`── job sign (${profile},`)));
      // cosign-sign's own lines: `verify <repo>@<digest>: …` per signed target, `promoted <repo>:latest → …`.
      const verified = cell.findIndex((line) =>
        line.startsWith(`verify ${registry.host}/os/${profile}@sha256:`),
      );
      const promoted = cell.findIndex((line) =>
        line.startsWith(`promoted ${registry.host}/os/${profile}:latest → `),
      );
      expect(verified, cell.join("\n")).toBeGreaterThanOrEqual(0);
      expect(promoted, cell.join("\n")).toBeGreaterThan(verified);
    }
  });

  test("secrets never reach the log", () => {
    const log = push.log.join("\n");
    expect(log).not.toContain(CREDENTIALS.password);
    expect(log).not.toContain(PASSPHRASE);
    expect(log).not.toContain("ENCRYPTED COSIGN PRIVATE KEY");
  });

  test("pull_request: builds and lints both profiles, pushes and signs nothing; the registry is unchanged", async () => {
    const pull = await workflow("pull_request");
    expect(pull.failed, pull.log.join("\n")).toBe(false);
    expect(pull.jobs.filter((j) => j.result !== "skipped").map((j) => j.id)).toEqual([
      "plan",
      "build",
      "summary",
    ]);
    expect(job(pull, "build").cells.map((c) => c.result)).toEqual(["success", "success"]);
    expect(pull.jobs.every((j) => !j.secrets && !j.idToken)).toBe(true);
    expect(JSON.parse(pull.outputs.digests ?? "")).toEqual({});
    expect(await catalog()).toEqual(catalogAfterPush);
    for (const repository of catalogAfterPush)
      expect(await tags(repository)).toEqual(tagsAfterPush[repository]);
  }, 1_800_000);
});
