import { formatDuration, heading, markdownTable } from "@frostyard/kit";
import { SEVERITIES } from "./options";
import { sortFindings, type Finding, type SeverityCounts } from "./report";

export interface ScanSummary {
  /** What was scanned (reference@digest, layout or directory) and the platform of an index, when one. */
  name: string;
  findings: readonly Finding[];
  counts: SeverityCounts;
  os?: string;
}

export interface SummaryInput {
  scans: readonly ScanSummary[];
  totals: SeverityCounts;
  trivyVersion: string;
  dbAge?: string;
  dbSource?: string;
  gate?: string;
  reports: Record<string, string>;
  sarifNotes: readonly string[];
  durationMs: number;
  top?: number;
}

function finding(f: Finding): string[] {
  const versions = f.installed ? `${f.installed} → ${f.fixed ?? "no fix"}` : "";
  return [`\`${f.id}\``, f.package, versions, f.severity, f.kind];
}

export function summaryMarkdown(input: SummaryInput): string {
  const top = input.top ?? 20;
  const status = input.gate ? `❌ ${input.gate}` : "✅ gate passed";
  const parts = [
    heading("trivy-scan"),
    `**${status}** — scanned in ${formatDuration(input.durationMs)} with Trivy ${input.trivyVersion}.`,
  ];
  parts.push(
    markdownTable(
      [
        "target",
        ...SEVERITIES.slice()
          .reverse()
          .map((s) => s.toLowerCase()),
      ],
      [
        ...input.scans.map((s) => [
          s.os ? `${s.name} (${s.os})` : s.name,
          ...SEVERITIES.slice()
            .reverse()
            .map((v) => String(s.counts[v])),
        ]),
        ...(input.scans.length > 1
          ? [
              [
                "**total**",
                ...SEVERITIES.slice()
                  .reverse()
                  .map((v) => String(input.totals[v])),
              ],
            ]
          : []),
      ],
    ),
  );
  const all = sortFindings(input.scans.flatMap((s) => s.findings));
  if (all.length > 0) {
    parts.push(heading(`Top findings (${Math.min(top, all.length)} of ${all.length})`, 3));
    parts.push(
      markdownTable(
        ["ID", "package", "installed → fixed", "severity", "kind"],
        all.slice(0, top).map(finding),
      ),
    );
  }
  const facts: string[] = [];
  if (input.dbAge)
    facts.push(`vulnerability DB: ${input.dbAge} old${input.dbSource ? ` (${input.dbSource})` : ""}`);
  for (const [name, path] of Object.entries(input.reports)) if (path) facts.push(`${name}: \`${path}\``);
  for (const note of input.sarifNotes) facts.push(`SARIF: ${note}`);
  if (facts.length > 0) parts.push(facts.map((f) => `- ${f}`).join("\n"));
  return parts.join("\n\n");
}
