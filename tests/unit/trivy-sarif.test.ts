import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import {
  categoryFor,
  GITHUB_SARIF_LIMITS,
  resultSeverity,
  sarifUploadRequest,
  shapeSarif,
  uploadFailureMessage,
  uploadSkipReason,
  type SarifLog,
} from "@frostyard/trivy";
import { sharedFixture } from "../helpers/fixtures";
import { syntheticTrivySarif } from "../helpers/trivy-sarif";

const alpine = (): SarifLog =>
  JSON.parse(
    readFileSync(sharedFixture("trivy/trivy-integration/alpine-310.sarif.golden"), "utf8"),
  ) as SarifLog;
const ALL = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;

describe("shapeSarif", () => {
  test("Trivy's own SARIF: each run gets its category, nothing cut", () => {
    const shaped = shapeSarif([{ category: "trivy:ghcr.io/acme/os:linux/amd64", log: alpine() }], ALL);
    expect(shaped.notes).toEqual([]);
    expect(shaped.log.runs).toHaveLength(1);
    expect(shaped.log.runs[0]?.automationDetails).toEqual({ id: "trivy:ghcr.io/acme/os:linux/amd64/" });
    expect(shaped.log.runs[0]?.results).toHaveLength(4);
    expect(resultSeverity(shaped.log.runs[0]!.results![0]!, shaped.log.runs[0]!.tool.driver.rules!)).toBe(
      "MEDIUM",
    );
  });

  test("the severity filter drops results and the rules only they used", () => {
    const shaped = shapeSarif([{ category: "c", log: alpine() }], ["HIGH", "CRITICAL"]);
    expect(shaped.log.runs[0]?.results).toEqual([]);
    expect(shaped.log.runs[0]?.tool.driver.rules).toEqual([]);
    expect(shaped.notes).toEqual(["c/: 4 result(s) below the severity filter left out"]);
  });

  test("duplicates (same rule, same message) merge into one result with both locations", () => {
    const log = alpine();
    const first = log.runs[0]!.results![0]!;
    log.runs[0]!.results!.push({
      ...first,
      locations: [{ physicalLocation: { artifactLocation: { uri: "other.tar" } } }],
    });
    const shaped = shapeSarif([{ category: "c", log }], ALL);
    expect(shaped.log.runs[0]?.results).toHaveLength(4);
    const merged = shaped.log.runs[0]!.results!.find((r) => r.message?.text === first.message?.text);
    expect(merged?.locations).toHaveLength(2);
    expect(shaped.notes).toEqual(["c/: 1 duplicate result(s) merged into others' locations"]);
  });

  test("one category per image and platform; a repeated category still gets a distinct id", () => {
    expect(categoryFor("127.0.0.1:5000/os@sha256:" + "a".repeat(64), "linux/arm64")).toBe(
      "trivy:127.0.0.1:5000/os:linux/arm64",
    );
    const shaped = shapeSarif(
      [
        { category: "trivy:os:linux/amd64", log: alpine() },
        { category: "trivy:os:linux/arm64", log: alpine() },
        { category: "trivy:os:linux/arm64", log: alpine() },
      ],
      ALL,
    );
    const ids = shaped.log.runs.map((r) => r.automationDetails?.id);
    expect(ids).toEqual(["trivy:os:linux/amd64/", "trivy:os:linux/arm64/", "trivy:os:linux/arm64:1/"]);
  });

  test("30,000 results: the 25,000 most severe kept, rules renumbered, the cut named", () => {
    const shaped = shapeSarif([{ category: "big", log: syntheticTrivySarif(30_000, 30_000) }], ALL);
    const run = shaped.log.runs[0]!;
    expect(run.results).toHaveLength(GITHUB_SARIF_LIMITS.resultsPerRun);
    expect(run.tool.driver.rules).toHaveLength(GITHUB_SARIF_LIMITS.resultsPerRun);
    const severities = run.results!.map((r) => resultSeverity(r, run.tool.driver.rules!));
    // 7,500 of each severity were made: every critical, high and medium kept, 2,500 lows.
    expect(severities.filter((s) => s === "LOW")).toHaveLength(2_500);
    expect(severities.filter((s) => s === "CRITICAL")).toHaveLength(7_500);
    for (const r of run.results!) expect(run.tool.driver.rules![r.ruleIndex!]!.id).toBe(r.ruleId);
    expect(shaped.notes).toContain(
      "big/: 30000 results; GitHub accepts 25000 per run, the 25000 most severe kept",
    );
    expect(shaped.gzippedBytes).toBeLessThanOrEqual(GITHUB_SARIF_LIMITS.gzippedBytes);
  });

  test("locations, runs and gzipped size are cut to the limits too", () => {
    const limits = { ...GITHUB_SARIF_LIMITS, locationsPerResult: 3, runsPerFile: 2, gzippedBytes: 20_000 };
    const many = (i: number) => ({ category: `c${i}`, log: syntheticTrivySarif(400, 50, 5) });
    const shaped = shapeSarif([many(1), many(2), many(3)], ALL, limits);
    expect(shaped.log.runs).toHaveLength(2);
    for (const r of shaped.log.runs.flatMap((run) => run.results ?? [])) expect(r.locations).toHaveLength(3);
    expect(shaped.gzippedBytes).toBeLessThanOrEqual(20_000);
    expect(shaped.notes).toContain("3 runs; GitHub accepts 2 per file, the first 2 kept");
    expect(
      shaped.notes.some((n) => /over 20000 bytes gzipped: \d+ least severe result\(s\) left out/.test(n)),
    ).toBe(true);
    expect(shaped.log.runs[0]?.properties).toMatchObject({ truncated: true });
  });
});

describe("the code scanning upload", () => {
  test("the request: owner, repo, commit, ref and the SARIF gzipped then base64", () => {
    const log = shapeSarif([{ category: "c", log: alpine() }], ALL).log;
    const request = sarifUploadRequest("acme/os", "a".repeat(40), "refs/heads/main", log);
    expect(Object.keys(request)).toEqual(["owner", "repo", "commit_sha", "ref", "sarif"]);
    expect(request).toMatchObject({
      owner: "acme",
      repo: "os",
      commit_sha: "a".repeat(40),
      ref: "refs/heads/main",
    });
    expect(JSON.parse(gunzipSync(Buffer.from(request.sarif, "base64")).toString("utf8"))).toEqual(log);
    expect(() => sarifUploadRequest("acme", "a", "r", log)).toThrow("'acme' is not an owner/repository name");
  });

  const env = {
    GITHUB_API_URL: "https://api.github.com",
    GITHUB_REPOSITORY: "acme/os",
    GITHUB_SHA: "a".repeat(40),
    GITHUB_REF: "refs/pull/7/merge",
  };
  test.each<[string, Record<string, string | undefined>, unknown, RegExp | undefined]>([
    ["a push", { ...env, GITHUB_EVENT_NAME: "push" }, {}, undefined],
    [
      "a pull request from a branch",
      { ...env, GITHUB_EVENT_NAME: "pull_request" },
      { pull_request: { head: { repo: { full_name: "acme/os", fork: false } } } },
      undefined,
    ],
    [
      "a pull request from a fork",
      { ...env, GITHUB_EVENT_NAME: "pull_request" },
      { pull_request: { head: { repo: { full_name: "eve/os", fork: true } } } },
      /fork eve\/os gets a read-only token/,
    ],
    ["no GitHub API", { ...env, GITHUB_API_URL: undefined }, {}, /no GitHub API is configured/],
  ])("%s", (_name, values, event, reason) => {
    const skip = uploadSkipReason(values, event);
    if (reason) expect(skip).toMatch(reason);
    else expect(skip).toBeUndefined();
  });

  test.each([
    [
      403,
      "Resource not accessible by integration",
      /refused \(403: Resource not accessible by integration\); the job needs `permissions: security-events: write`/,
    ],
    [500, "boom", /failed \(500\): boom/],
  ])("a %i names what to do", (status, message, expected) => {
    expect(uploadFailureMessage(status, message)).toMatch(expected);
  });
});
