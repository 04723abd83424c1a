import { gzipSync } from "node:zlib";
import { SEVERITIES, severityRank, type Severity } from "./options";

/** GitHub code scanning's upload limits (docs: "SARIF support for code scanning", upload limits). */
export interface SarifLimits {
  gzippedBytes: number;
  runsPerFile: number;
  resultsPerRun: number;
  locationsPerResult: number;
  rulesPerRun: number;
}

export const GITHUB_SARIF_LIMITS: SarifLimits = {
  gzippedBytes: 10 * 1024 * 1024,
  runsPerFile: 20,
  resultsPerRun: 25_000,
  locationsPerResult: 1_000,
  rulesPerRun: 25_000,
};

type Json = Record<string, unknown>;
export interface SarifLog {
  version: string;
  $schema?: string;
  runs: SarifRun[];
}
export interface SarifRun {
  tool: { driver: { name: string; rules?: Json[]; [key: string]: unknown } };
  results?: SarifResult[];
  automationDetails?: { id: string };
  properties?: Json;
  [key: string]: unknown;
}
export interface SarifResult {
  ruleId?: string;
  ruleIndex?: number;
  level?: string;
  message?: { text?: string };
  locations?: Json[];
  [key: string]: unknown;
}

/** One Trivy SARIF report and the category its runs are uploaded under (one per image and platform). */
export interface CategorisedSarif {
  category: string;
  log: SarifLog;
}

export interface ShapedSarif {
  log: SarifLog;
  /** What was dropped or merged to fit, for the log and the summary; empty when nothing was cut. */
  notes: string[];
  gzippedBytes: number;
}

const LEVEL_SEVERITY: Record<string, Severity> = {
  error: "HIGH",
  warning: "MEDIUM",
  note: "LOW",
  none: "UNKNOWN",
};

/** The Trivy severity of a result: from its rule's tags (Trivy tags every rule with it), else its level. */
export function resultSeverity(result: SarifResult, rules: readonly Json[]): Severity {
  const rule =
    (result.ruleIndex !== undefined ? rules[result.ruleIndex] : undefined) ??
    rules.find((r) => r.id === result.ruleId);
  const tags = (rule?.properties as Json | undefined)?.tags;
  if (Array.isArray(tags)) {
    const tag = tags.find((t) => (SEVERITIES as readonly unknown[]).includes(t));
    if (tag) return tag as Severity;
  }
  return LEVEL_SEVERITY[result.level ?? "warning"] ?? "UNKNOWN";
}

/** Code scanning's category syntax: runAutomationDetails ids end in "/" when they name a category only. */
export function automationId(category: string): string {
  return category.endsWith("/") ? category : `${category}/`;
}

/** A category for an image or platform: code scanning keeps one analysis per tool and category. */
export function categoryFor(target: string, platform?: string): string {
  const base = `trivy:${target.replace(/@sha256:[0-9a-f]+$/, "")}`;
  return platform ? `${base}:${platform}` : base;
}

function mergeDuplicates(results: SarifResult[], notes: string[], label: string): SarifResult[] {
  const byKey = new Map<string, SarifResult>();
  let merged = 0;
  for (const result of results) {
    const key = `${result.ruleId ?? ""}\u0000${result.message?.text ?? ""}`;
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...result, locations: [...(result.locations ?? [])] });
      continue;
    }
    merged++;
    const have = new Set((seen.locations ?? []).map((l) => JSON.stringify(l)));
    for (const location of result.locations ?? []) {
      if (!have.has(JSON.stringify(location))) seen.locations?.push(location);
    }
  }
  if (merged > 0) notes.push(`${label}: ${merged} duplicate result(s) merged into others' locations`);
  return [...byKey.values()];
}

/** Keeps only referenced rules (GitHub limits rules per run) and renumbers ruleIndex to match. */
function pruneRules(run: SarifRun): void {
  const rules = run.tool.driver.rules;
  if (!rules) return;
  const used = new Map<string, number>();
  const kept: Json[] = [];
  for (const result of run.results ?? []) {
    const rule =
      (result.ruleIndex !== undefined ? rules[result.ruleIndex] : undefined) ??
      rules.find((r) => r.id === result.ruleId);
    if (!rule) {
      delete result.ruleIndex;
      continue;
    }
    const id = String(rule.id);
    let index = used.get(id);
    if (index === undefined) {
      index = kept.length;
      kept.push(rule);
      used.set(id, index);
    }
    result.ruleIndex = index;
  }
  run.tool.driver.rules = kept;
}

function gzippedSize(log: SarifLog): number {
  return gzipSync(JSON.stringify(log)).length;
}

/**
 * One SARIF file within GitHub's limits from Trivy's reports: results outside `severities` dropped,
 * duplicates merged, each run given its category, then cut (least severe results first) until every
 * limit holds. Every cut is named in `notes`; nothing is cut silently.
 */
export function shapeSarif(
  inputs: readonly CategorisedSarif[],
  severities: readonly Severity[],
  limits: SarifLimits = GITHUB_SARIF_LIMITS,
): ShapedSarif {
  const notes: string[] = [];
  const categories = new Set<string>();
  let runs: SarifRun[] = [];
  let version = "2.1.0";
  let schema: string | undefined;
  for (const { category, log } of inputs) {
    version = log.version ?? version;
    schema = log.$schema ?? schema;
    for (const [i, original] of log.runs.entries()) {
      let id = automationId(category);
      // Two runs of one tool under one category are refused by code scanning (since July 2025).
      if (categories.has(id)) id = automationId(`${category}:${i + 1}`);
      categories.add(id);
      const rules = original.tool.driver.rules ?? [];
      const wanted = (original.results ?? []).filter((r) => severities.includes(resultSeverity(r, rules)));
      const dropped = (original.results?.length ?? 0) - wanted.length;
      if (dropped > 0) notes.push(`${id}: ${dropped} result(s) below the severity filter left out`);
      const results = mergeDuplicates(wanted, notes, id).map((result) => {
        const locations = result.locations ?? [];
        if (locations.length <= limits.locationsPerResult) return result;
        notes.push(
          `${id}: ${result.ruleId ?? "a result"} had ${locations.length} locations; the first ${limits.locationsPerResult} kept`,
        );
        return { ...result, locations: locations.slice(0, limits.locationsPerResult) };
      });
      results.sort((a, b) => severityRank(resultSeverity(b, rules)) - severityRank(resultSeverity(a, rules)));
      runs.push({
        ...original,
        tool: { driver: { ...original.tool.driver, rules } },
        automationDetails: { id },
        results,
      });
    }
  }
  if (runs.length > limits.runsPerFile) {
    notes.push(
      `${runs.length} runs; GitHub accepts ${limits.runsPerFile} per file, the first ${limits.runsPerFile} kept`,
    );
    runs = runs.slice(0, limits.runsPerFile);
  }
  for (const run of runs) {
    const results = run.results ?? [];
    const id = run.automationDetails?.id ?? "";
    if (results.length > limits.resultsPerRun) {
      notes.push(
        `${id}: ${results.length} results; GitHub accepts ${limits.resultsPerRun} per run, the ${limits.resultsPerRun} most severe kept`,
      );
      run.results = results.slice(0, limits.resultsPerRun);
    }
    pruneRules(run);
    const rules = run.tool.driver.rules ?? [];
    if (rules.length > limits.rulesPerRun) {
      // Only reachable with more distinct rules than results allowed; results of the dropped rules go too.
      const keep = new Set(rules.slice(0, limits.rulesPerRun).map((r) => r.id));
      notes.push(
        `${id}: ${rules.length} rules; GitHub accepts ${limits.rulesPerRun}, results of the rest left out`,
      );
      run.results = (run.results ?? []).filter((r) => keep.has(rules[r.ruleIndex ?? -1]?.id));
      pruneRules(run);
    }
  }
  const log: SarifLog = { version, ...(schema ? { $schema: schema } : {}), runs };
  let size = gzippedSize(log);
  const before = runs.reduce((n, r) => n + (r.results?.length ?? 0), 0);
  while (size > limits.gzippedBytes) {
    // The least severe tenth of the largest run goes first, until the file fits.
    const largest = runs.reduce((a, b) => ((b.results?.length ?? 0) > (a.results?.length ?? 0) ? b : a));
    const count = largest.results?.length ?? 0;
    if (count === 0) break;
    largest.results = largest.results?.slice(0, Math.floor(count * 0.9));
    pruneRules(largest);
    size = gzippedSize(log);
  }
  const after = runs.reduce((n, r) => n + (r.results?.length ?? 0), 0);
  if (after < before) {
    notes.push(
      `the SARIF file was over ${limits.gzippedBytes} bytes gzipped: ${before - after} least severe result(s) left out`,
    );
  }
  if (notes.some((n) => !n.includes("severity filter") && !n.includes("merged"))) {
    for (const run of runs) run.properties = { ...run.properties, truncated: true };
  }
  return { log, notes, gzippedBytes: size };
}
