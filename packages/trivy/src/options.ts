/** Trivy's severities, lowest first: the order the gate and the SARIF cut rely on. */
export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SCANNERS = ["vuln", "secret", "misconfig", "license"] as const;
export type Scanner = (typeof SCANNERS)[number];

export const FAIL_ON = ["none", "low", "medium", "high", "critical"] as const;
export type FailOn = (typeof FAIL_ON)[number];

export const SBOM_FORMATS = ["cyclonedx", "spdx-json", "none"] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

export const TARGET_KINDS = ["image", "oci-layout", "rootfs"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export function severityRank(severity: string): number {
  const rank = SEVERITIES.indexOf(severity.toUpperCase() as Severity);
  return rank < 0 ? 0 : rank;
}

/**
 * Trivy's documented DB mirrors, in the order its docs recommend trying them: Google's mirror of GHCR first
 * (no GHCR rate limits), then GHCR, then ECR Public.
 */
export const DEFAULT_DB_REPOSITORIES: readonly string[] = [
  "mirror.gcr.io/aquasec/trivy-db:2",
  "ghcr.io/aquasecurity/trivy-db:2",
  "public.ecr.aws/aquasecurity/trivy-db:2",
];

/** What one scan looks at. `platform` (os/arch[/variant]) picks one image of an index. */
export interface ScanTarget {
  kind: TargetKind;
  /** image: a reference by digest; oci-layout and rootfs: a directory. */
  ref: string;
  platform?: string;
}

export interface ScanSettings {
  scanners: readonly Scanner[];
  severities: readonly Severity[];
  ignoreUnfixed: boolean;
  ignorefile?: string;
  /** Trivy's duration syntax, e.g. "10m". */
  timeout?: string;
  /** Also list every package (needed for an SBOM converted from the JSON report). */
  listAllPackages: boolean;
}
