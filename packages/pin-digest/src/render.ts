import { markdownTable } from "@frostyard/kit";
import type { RefOutcome } from "./types";

/** One entry of the `pins` output: every reference that changed (or, in check mode, needs pinning). */
export interface PinRecord {
  file: string;
  line: number;
  ref: string;
  old: string;
  new: string | null;
}

const LISTED: ReadonlySet<RefOutcome["status"]> = new Set(["pinned", "updated", "unpinned"]);

export function pinRecords(outcomes: readonly RefOutcome[]): PinRecord[] {
  return outcomes
    .filter((o) => LISTED.has(o.status))
    .map((o) => ({ file: o.file, line: o.line, ref: o.ref, old: o.old, new: o.new ?? null }));
}

/** A reference in a code span; pipes and newlines are the table renderer's business. */
function code(text: string): string {
  return text ? `\`${text}\`` : "";
}

/** The table of references for the job summary: where, what, old → new, and what happened. */
export function outcomesTable(outcomes: readonly RefOutcome[]): string {
  if (outcomes.length === 0) return "_No references found._";
  return markdownTable(
    ["Location", "Reference", "Old", "New", "Status"],
    outcomes.map((o) => [
      `${o.file}:${o.line}`,
      code(o.ref),
      code(o.old),
      o.new ? code(o.new) : "",
      o.message ? `${o.status}: ${o.message}` : o.status,
    ]),
  );
}

/** The pull request body: every pin, old → new, and how to keep them current. */
export function pullRequestBody(outcomes: readonly RefOutcome[]): string {
  const changed = outcomes.filter((o) => o.status === "pinned" || o.status === "updated");
  const table = markdownTable(
    ["File", "Reference", "Old", "New"],
    changed.map((o) => [`${o.file}:${o.line}`, code(o.ref), code(o.old), code(o.new ?? "")]),
  );
  return [
    `Pins ${changed.length} reference(s) to immutable digests, in forms Renovate keeps updating`,
    "(`image:tag@sha256:…`, `owner/repo@<sha> # vX.Y.Z`).",
    "",
    table,
    "",
    "_Opened by frostyard pin-digest._",
  ].join("\n");
}

/** Counts per status, for a one-line log summary: `3 pinned, 1 error`. */
export function statusCounts(outcomes: readonly RefOutcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "no references";
}
