import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  countBySeverity,
  dbCacheKey,
  DB_RESTORE_KEYS,
  emptyCounts,
  formatAge,
  gateFailure,
  gatedSeverities,
  parseDbMetadata,
  parseReport,
  summaryMarkdown,
  TrivyReportError,
  type FailOn,
  type Finding,
} from "@frostyard/trivy";
import { sharedFixture } from "../helpers/fixtures";

const golden = (name: string) => readFileSync(sharedFixture(`trivy/trivy-integration/${name}`), "utf8");

describe("parseReport (Trivy's own integration goldens)", () => {
  test("debian-buster: OS packages with installed and fixed versions", () => {
    const report = parseReport(golden("debian-buster.json.golden"));
    expect(report.os).toBe("debian 10.1");
    expect(report.artifact).toBe("testdata/fixtures/images/debian-buster.tar.gz");
    expect(report.counts).toEqual({ ...emptyCounts(), LOW: 1, CRITICAL: 1 });
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: "vulnerability",
        id: "CVE-2019-18224",
        package: "libidn2-0",
        installed: "2.0.5-1",
        fixed: "2.0.5-1+deb10u1",
        severity: "CRITICAL",
      }),
    );
    expect(report.findings.find((f) => f.id === "CVE-2019-18276")?.fixed).toBeUndefined();
  });

  test("secrets: rule, file and line", () => {
    const report = parseReport(golden("secrets.json.golden"));
    expect(report.counts).toEqual({ ...emptyCounts(), HIGH: 1, CRITICAL: 1 });
    expect(report.findings[0]).toMatchObject({
      kind: "secret",
      id: "aws-access-key-id",
      package: "deploy.sh:3",
    });
  });

  test.each([
    ["not JSON", "{", /not JSON/],
    ["another schema", '{"SchemaVersion":1}', /SchemaVersion 1; expected 2/],
  ])("%s is refused", (_name, text, message) => {
    expect(() => parseReport(text)).toThrow(TrivyReportError);
    expect(() => parseReport(text)).toThrow(message);
  });

  test("misconfigurations that passed are not findings; licences are", () => {
    const report = parseReport(
      JSON.stringify({
        SchemaVersion: 2,
        Results: [
          {
            Target: "etc/Dockerfile",
            Misconfigurations: [
              { ID: "DS002", Severity: "HIGH", Status: "FAIL", Title: "root user" },
              { ID: "DS001", Severity: "MEDIUM", Status: "PASS" },
            ],
            Licenses: [{ Name: "GPL-3.0", Severity: "LOW", PkgName: "bash", Category: "restricted" }],
          },
        ],
      }),
    );
    expect(report.findings.map((f) => [f.kind, f.id, f.severity])).toEqual([
      ["misconfiguration", "DS002", "HIGH"],
      ["license", "GPL-3.0", "LOW"],
    ]);
  });
});

describe("the gate", () => {
  const counts = { ...emptyCounts(), LOW: 3, HIGH: 2 };
  test.each<[FailOn, string | undefined]>([
    ["none", undefined],
    ["critical", undefined],
    ["high", "2 finding(s) at or above high (fail-on: high): 2 high"],
    ["medium", "2 finding(s) at or above medium (fail-on: medium): 2 high"],
    ["low", "5 finding(s) at or above low (fail-on: low): 2 high, 3 low"],
  ])("fail-on %s → %s", (failOn, failure) => {
    expect(gateFailure(counts, failOn)).toBe(failure);
  });

  test.each<[FailOn, string[]]>([
    ["none", []],
    ["medium", ["MEDIUM", "HIGH", "CRITICAL"]],
    ["critical", ["CRITICAL"]],
  ])("fail-on %s gates %j", (failOn, severities) => {
    expect(gatedSeverities(failOn)).toEqual(severities);
  });
});

describe("the DB cache and metadata", () => {
  test.each([
    ["2026-12-04T23:59:59Z", "cache-trivy-2026-12-04"],
    ["2026-12-05T00:00:00Z", "cache-trivy-2026-12-05"],
  ])("the key at %s is %s (UTC day)", (now, key) => {
    expect(dbCacheKey(new Date(now))).toBe(key);
    expect(key.startsWith(DB_RESTORE_KEYS[0]!)).toBe(true);
  });

  test("metadata.json: dates read, Go's zero time ignored", () => {
    const meta = parseDbMetadata(
      '{"Version":2,"NextUpdate":"2026-12-04T18:00:00Z","UpdatedAt":"2026-12-04T12:00:00Z","DownloadedAt":"0001-01-01T00:00:00Z"}',
    );
    expect(meta).toEqual({
      version: 2,
      updatedAt: new Date("2026-12-04T12:00:00Z"),
      nextUpdate: new Date("2026-12-04T18:00:00Z"),
    });
  });

  test.each([
    ["2026-12-04T11:30:00Z", "under 1 h"],
    ["2026-12-04T09:00:00Z", "3 h"],
    ["2026-12-02T12:00:00Z", "2 d"],
    ["2026-12-01T08:00:00Z", "3 d 4 h"],
  ])("age of a DB built at %s: %s", (built, age) => {
    expect(formatAge(new Date(built), new Date("2026-12-04T12:00:00Z"))).toBe(age);
  });
});

describe("summaryMarkdown", () => {
  const findings: Finding[] = [
    { kind: "vulnerability", id: "CVE-1", severity: "LOW", package: "bash", installed: "5.0", target: "t" },
    {
      kind: "vulnerability",
      id: "CVE-2",
      severity: "CRITICAL",
      package: "openssl",
      installed: "3.0.1",
      fixed: "3.0.2",
      target: "t",
    },
    { kind: "secret", id: "github-pat", severity: "CRITICAL", package: "etc/token:1", target: "etc/token" },
  ];
  const markdown = summaryMarkdown({
    scans: [
      {
        name: "127.0.0.1:5000/os@sha256:ab (linux/amd64)",
        findings,
        counts: countBySeverity(findings),
        os: "debian 13.1",
      },
    ],
    totals: countBySeverity(findings),
    trivyVersion: "0.70.0",
    dbAge: "3 h",
    dbSource: "mirror.gcr.io/aquasec/trivy-db:2",
    gate: "2 finding(s) at or above high",
    reports: { json: "/r/trivy.json", sarif: "/r/trivy.sarif", sbom: "" },
    sarifNotes: ["1 result(s) below the severity filter left out"],
    durationMs: 4200,
    top: 2,
  });

  test("most severe findings first, installed → fixed, totals, DB age, reports and time", () => {
    expect(markdown).toContain("**❌ 2 finding(s) at or above high** — scanned in 4.2 s with Trivy 0.70.0.");
    expect(markdown).toContain(
      "| 127.0.0.1:5000/os@sha256:ab (linux/amd64) (debian 13.1) | 2 | 0 | 0 | 1 | 0 |",
    );
    expect(markdown).toContain("### Top findings (2 of 3)");
    expect(markdown).toContain("| `CVE-2` | openssl | 3.0.1 → 3.0.2 | CRITICAL | vulnerability |");
    expect(markdown).toContain("| `github-pat` | etc/token:1 |  | CRITICAL | secret |");
    expect(markdown).not.toContain("CVE-1");
    expect(markdown).toContain("- vulnerability DB: 3 h old (mirror.gcr.io/aquasec/trivy-db:2)");
    expect(markdown).toContain("- json: `/r/trivy.json`");
    expect(markdown).not.toContain("- sbom:");
    expect(markdown).toContain("- SARIF: 1 result(s) below the severity filter left out");
  });
});
