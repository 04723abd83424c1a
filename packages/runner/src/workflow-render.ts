import type { WorkflowRun } from "./workflow-run";

/** The CLI's closing report of a workflow run: each job's result, what it was granted, its cells, outputs. */
export function renderWorkflowReport(run: WorkflowRun, mask: (text: string) => string = (t) => t): string {
  const lines: string[] = ["Jobs:"];
  for (const job of run.jobs) {
    const permissions =
      job.permissions === undefined
        ? "GitHub's defaults"
        : Object.entries(job.permissions)
            .map(([scope, level]) => `${scope}: ${level}`)
            .join(", ") || "none";
    lines.push(`  ${job.id}: ${job.result}`);
    if (job.result === "skipped") continue;
    lines.push(
      `    permissions: ${permissions}; secrets: ${job.secrets ? "given" : "none"}; id-token: ${job.idToken ? "granted (no OIDC service here)" : "none"}`,
    );
    lines.push(`    runs-on (recorded, not honoured): ${[...new Set(job.runsOn)].join(", ")}`);
    for (const cell of job.cells) {
      if (job.cells.length > 1) lines.push(`    ${cell.name}: ${cell.result}`);
      for (const step of cell.steps) {
        if (step.outcome === "failure")
          lines.push(`      step ${step.id}${step.uses ? ` (${step.uses})` : ""}: failed`);
      }
    }
    for (const [name, value] of Object.entries(job.outputs)) lines.push(`    output ${name}=${mask(value)}`);
  }
  const outputs = Object.entries(run.outputs);
  if (outputs.length > 0) {
    lines.push("", "Workflow outputs:");
    for (const [name, value] of outputs) lines.push(`  ${name}=${mask(value)}`);
  }
  lines.push("", run.failed ? "FAILED" : "OK");
  return lines.join("\n");
}
