import type { SarifLog } from "@frostyard/trivy";

const SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
const LEVELS = { LOW: "note", MEDIUM: "warning", HIGH: "error", CRITICAL: "error" } as const;

/**
 * A SARIF log shaped as Trivy writes it (rules tagged with their severity, one result per package and
 * location), with `count` results over `distinct` rules: large reports cannot be had from a real scan here.
 */
export function syntheticTrivySarif(count: number, distinct = count, locationsPerResult = 1): SarifLog {
  const rules = Array.from({ length: distinct }, (_, i) => {
    const severity = SEVERITIES[i % SEVERITIES.length]!;
    return {
      id: `CVE-2026-${String(10000 + i)}`,
      name: "OsPackageVulnerability",
      shortDescription: { text: `synthetic vulnerability ${i}` },
      fullDescription: { text: `A synthetic vulnerability number ${i} in a synthetic package.` },
      defaultConfiguration: { level: LEVELS[severity] },
      helpUri: `https://avd.aquasec.com/nvd/cve-2026-${10000 + i}`,
      help: {
        text: `Vulnerability CVE-2026-${10000 + i}`,
        markdown: `**Vulnerability CVE-2026-${10000 + i}**`,
      },
      properties: {
        precision: "very-high",
        "security-severity": "5.0",
        tags: ["vulnerability", "security", severity],
      },
    };
  });
  const results = Array.from({ length: count }, (_, i) => {
    const ruleIndex = i % distinct;
    const severity = SEVERITIES[ruleIndex % SEVERITIES.length]!;
    return {
      ruleId: rules[ruleIndex]!.id,
      ruleIndex,
      level: LEVELS[severity],
      message: { text: `Package: pkg${i}\nInstalled Version: 1.0-${i}\nSeverity: ${severity}` },
      locations: Array.from({ length: locationsPerResult }, (_, j) => ({
        physicalLocation: {
          artifactLocation: { uri: `usr/lib/pkg${i}/file${j}`, uriBaseId: "ROOTPATH" },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
        },
        message: { text: `usr/lib/pkg${i}/file${j}: pkg${i}@1.0-${i}` },
      })),
    };
  });
  return {
    version: "2.1.0",
    $schema:
      "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
    runs: [
      {
        tool: {
          driver: {
            fullName: "Trivy Vulnerability Scanner",
            informationUri: "https://github.com/aquasecurity/trivy",
            name: "Trivy",
            rules,
            version: "0.70.0",
          },
        },
        results,
        columnKind: "utf16CodeUnits",
        originalUriBaseIds: { ROOTPATH: { uri: "file:///" } },
      },
    ],
  };
}
