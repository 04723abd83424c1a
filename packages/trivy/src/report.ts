import { SEVERITIES, severityRank, type Severity } from "./options";

/** One finding of any scanner, in the shape the summary, the gate and the outputs use. */
export interface Finding {
  kind: "vulnerability" | "secret" | "misconfiguration" | "license";
  /** CVE/GHSA id, secret rule, misconfiguration id, or licence name. */
  id: string;
  severity: Severity;
  /** Package name (vulnerabilities, licences) or the file (secrets, misconfigurations). */
  package: string;
  installed?: string;
  fixed?: string;
  title?: string;
  target: string;
}

export type SeverityCounts = Record<Severity, number>;

export interface ParsedReport {
  artifact: string;
  findings: Finding[];
  counts: SeverityCounts;
  /** "debian 13.1" when Trivy detected the OS. */
  os?: string;
}

/** A report Trivy did not write, or not in the schema this reads (SchemaVersion 2). */
export class TrivyReportError extends Error {
  override name = "TrivyReportError";
}

type Json = Record<string, unknown>;
const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

function severityOf(value: unknown): Severity {
  const upper = String(value ?? "").toUpperCase();
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : "UNKNOWN";
}

export function emptyCounts(): SeverityCounts {
  return { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
}

export function countBySeverity(findings: readonly Finding[]): SeverityCounts {
  const counts = emptyCounts();
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** Trivy's JSON report (`--format json`) as findings. */
export function parseReport(text: string): ParsedReport {
  let data: Json;
  try {
    data = JSON.parse(text) as Json;
  } catch (error) {
    throw new TrivyReportError(`the Trivy report is not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || data.SchemaVersion !== 2) {
    throw new TrivyReportError(
      `the Trivy report has SchemaVersion ${JSON.stringify((data as Json | null)?.SchemaVersion)}; expected 2`,
    );
  }
  const findings: Finding[] = [];
  for (const result of list(data.Results)) {
    const target = str(result.Target) ?? "";
    for (const v of list(result.Vulnerabilities)) {
      findings.push({
        kind: "vulnerability",
        id: str(v.VulnerabilityID) ?? "?",
        severity: severityOf(v.Severity),
        package: str(v.PkgName) ?? "?",
        installed: str(v.InstalledVersion),
        fixed: str(v.FixedVersion),
        title: str(v.Title),
        target,
      });
    }
    for (const s of list(result.Secrets)) {
      findings.push({
        kind: "secret",
        id: str(s.RuleID) ?? "?",
        severity: severityOf(s.Severity),
        package: s.StartLine ? `${target}:${String(s.StartLine)}` : target,
        title: str(s.Title),
        target,
      });
    }
    for (const m of list(result.Misconfigurations)) {
      // Passed checks appear only with --include-non-failures; they are not findings.
      if (str(m.Status) && m.Status !== "FAIL") continue;
      findings.push({
        kind: "misconfiguration",
        id: str(m.ID) ?? str(m.AVDID) ?? "?",
        severity: severityOf(m.Severity),
        package: target,
        title: str(m.Title),
        target,
      });
    }
    for (const l of list(result.Licenses)) {
      findings.push({
        kind: "license",
        id: str(l.Name) ?? "?",
        severity: severityOf(l.Severity),
        package: str(l.PkgName) ?? str(l.FilePath) ?? target,
        title: str(l.Category),
        target,
      });
    }
  }
  const os = data.Metadata && typeof data.Metadata === "object" ? (data.Metadata as Json).OS : undefined;
  const osName =
    os && typeof os === "object"
      ? [str((os as Json).Family), str((os as Json).Name)].filter(Boolean).join(" ")
      : "";
  return {
    artifact: str(data.ArtifactName) ?? "",
    findings,
    counts: countBySeverity(findings),
    ...(osName ? { os: osName } : {}),
  };
}

/** Most severe first; then by kind and id, so the order is stable between runs. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.kind.localeCompare(b.kind) ||
      a.id.localeCompare(b.id) ||
      a.package.localeCompare(b.package),
  );
}

export function addCounts(a: SeverityCounts, b: SeverityCounts): SeverityCounts {
  const sum = emptyCounts();
  for (const s of SEVERITIES) sum[s] = a[s] + b[s];
  return sum;
}
