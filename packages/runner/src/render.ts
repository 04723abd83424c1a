import type { ActionRun } from "./run-action";
import { annotationLocation } from "./workflow-commands";

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

/**
 * The report the CLI prints after a run: outputs, annotations, the job summary and the verdict. Every
 * value passes through `mask`, so a secret the action registered never reaches the terminal.
 */
export function renderRunReport(run: ActionRun, mask: (text: string) => string = (t) => t): string {
  const sections: string[] = [];
  const outputNames = Object.keys(run.outputs).sort();
  if (outputNames.length > 0) {
    const lines = outputNames.map((name) => {
      const value = mask(run.outputs[name] ?? "");
      return value.includes("\n") ? `  ${name}:\n${indent(value)}` : `  ${name} = ${value}`;
    });
    sections.push(`Outputs:\n${lines.join("\n")}`);
  }
  if (run.annotations.length > 0) {
    const lines = run.annotations.map((a) => {
      const where = annotationLocation(a);
      const title = a.title ? `${a.title}: ` : "";
      return `  ${a.level} [${a.step}]${where ? ` ${where}` : ""}: ${title}${mask(a.message)}`;
    });
    sections.push(`Annotations:\n${lines.join("\n")}`);
  }
  if (run.summary.trim() !== "") sections.push(`Job summary:\n${indent(mask(run.summary.trimEnd()))}`);

  const steps = [`main exited ${run.exitCode} in ${run.main.durationMs} ms`];
  if (run.post) steps.push(`post exited ${run.post.exitCode} in ${run.post.durationMs} ms`);
  sections.push(`${run.failed ? "FAILED" : "OK"}: ${steps.join(", ")}`);
  return sections.join("\n\n");
}
