import { formatBytes, heading, markdownTable } from "@frostyard/kit";
import { signatureOutput } from "@frostyard/cosign";
import type { PipelineReport } from "@frostyard/pipeline";
import { summaryMarkdown as buildSummary, updateOutputs } from "../build-mkosi/report";

/** The action's outputs, all strings; empty where the pipeline did not get that far. */
export function outputsOf(report: PipelineReport): Record<string, string> {
  const pushed = report.pushed;
  const digest = pushed?.digest ?? report.build.digest ?? "";
  const image = !pushed
    ? ""
    : pushed.registryLayout
      ? `oci:${pushed.registryLayout}:${report.imageVersion}`
      : `${pushed.repository}@${pushed.digest}`;
  const signature = report.signed?.images[0]?.targets[0]?.signatures[0];
  return {
    digest,
    image,
    "image-version": report.imageVersion,
    "oci-layout": report.build.ociLayout ?? "",
    "registry-layout": pushed?.registryLayout ?? "",
    rootfs: report.build.rootfs ?? "",
    tags: JSON.stringify(pushed?.tags ?? []),
    signature: signature ? signatureOutput(signature) : "",
    verified: String(report.verification?.verified ?? false),
    "promoted-tags": JSON.stringify(report.promoted),
    "public-key": report.publicKey?.path ?? "",
    "lint-passed": report.lint ? String(report.lint.passed) : "",
    ...updateOutputs(report.build),
  };
}

/** The job summary: the pipeline's stages and what each left behind, then the build's own summary. */
export function summaryMarkdown(report: PipelineReport): string {
  const parts = [heading(`frostyard pipeline ${report.failed ? "failed" : report.imageVersion}`)];
  if (report.failed) parts.push(`**Failed:** ${report.failed.message.split("\n")[0]}`);
  const facts: [string, string][] = [["image version", report.imageVersion]];
  if (report.build.digest) facts.push(["digest", `\`${report.build.digest}\``]);
  if (report.lint) {
    facts.push([
      "lint",
      `${report.lint.passed ? "passed" : "failed"}: ${report.lint.failures.length} failure(s), ${report.lint.warnings.length} warning(s)`,
    ]);
  }
  if (report.pushed) {
    const where = report.pushed.registryLayout
      ? `OCI layout \`${report.pushed.registryLayout}\` (embedded registry)`
      : `\`${report.pushed.repository}\``;
    facts.push([
      "pushed",
      `${where} as ${report.pushed.tags.map((t) => `\`${t}\``).join(", ")}, ${formatBytes(report.pushed.uploadedBytes)} uploaded`,
    ]);
  }
  if (report.publicKey) {
    facts.push([
      "signed by",
      `${report.publicKey.throwaway ? "throwaway key" : "key"} sha256:${report.publicKey.fingerprint}, public key \`${report.publicKey.path}\``,
    ]);
  }
  if (report.verification) facts.push(["verified", report.verification.messages.join("; ")]);
  if (report.promoted.length > 0) facts.push(["promoted", report.promoted.map((t) => `\`${t}\``).join(", ")]);
  parts.push(markdownTable(["", ""], facts));
  parts.push(heading("Time per stage", 3));
  parts.push(report.timings.toMarkdown());
  parts.push(buildSummary(report.build).replace(/^#+ /, "### "));
  return parts.join("\n\n");
}
