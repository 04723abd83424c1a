import { SEVERITIES, severityRank, type FailOn, type Severity } from "./options";
import type { SeverityCounts } from "./report";

/** The severities at or above the gate's threshold; none for `none`. */
export function gatedSeverities(failOn: FailOn): Severity[] {
  if (failOn === "none") return [];
  const threshold = severityRank(failOn.toUpperCase());
  return SEVERITIES.filter((s) => severityRank(s) >= threshold);
}

/** Why the gate fails, or undefined when it passes. */
export function gateFailure(counts: SeverityCounts, failOn: FailOn): string | undefined {
  const over = gatedSeverities(failOn).filter((s) => counts[s] > 0);
  if (over.length === 0) return undefined;
  const total = over.reduce((n, s) => n + counts[s], 0);
  const detail = over
    .slice()
    .reverse()
    .map((s) => `${counts[s]} ${s.toLowerCase()}`)
    .join(", ");
  return `${total} finding(s) at or above ${failOn} (fail-on: ${failOn}): ${detail}`;
}
