import { heading, markdownTable } from "@frostyard/kit";
import {
  signatureOutput,
  type AttestImagesReport,
  type SignerIdentity,
  type SignImagesReport,
} from "@frostyard/cosign";
import type { CosignSignInputs } from "./inputs";

/** The action's outputs, as strings: several images give one line each, in input order. */
export function outputsOf(report: SignImagesReport | undefined): Record<string, string> {
  const images = report?.images ?? [];
  return {
    digest: images.map((i) => i.image.digest).join("\n"),
    signature: images
      .map((i) => i.targets[0]?.signatures[0])
      .filter((s) => s !== undefined)
      .map(signatureOutput)
      .join("\n"),
    verified: String(report?.verified ?? false),
    "promoted-tags": JSON.stringify(images.flatMap((i) => i.promoted)),
  };
}

export function describeSigner(identity: SignerIdentity): string {
  return identity.kind === "key"
    ? `key sha256:${identity.fingerprint}`
    : `certificate ${identity.identity} (issuer ${identity.issuer})`;
}

export function summaryMarkdown(
  report: SignImagesReport,
  inputs: Pick<CosignSignInputs, "format" | "engine">,
  signer: SignerIdentity,
): string {
  const rows = report.images.flatMap(({ image, targets, promoted }) =>
    targets.map((target, index) => [
      index === 0 ? `\`${image.input}\`` : `↳ ${target.platform ?? "manifest"}`,
      `\`${target.digest}\``,
      target.signatures.map((s) => `\`${s.reference}\``).join("<br>") || "—",
      target.verified ? "✅ verified" : `❌ ${target.verification.join("; ") || "not verified"}`,
      index === 0 ? promoted.map((p) => `\`${p.slice(p.lastIndexOf(":") + 1)}\``).join(", ") || "—" : "",
    ]),
  );
  const lines = [
    heading("cosign-sign"),
    `Signed by ${describeSigner(signer)}, format **${inputs.format}**, engine ${inputs.engine}.`,
    markdownTable(["image", "digest", "signature", "verification", "promoted"], rows),
  ];
  for (const { reference, digest } of report.images.flatMap((i) => i.superseded)) {
    lines.push(
      `**Warning:** \`${reference}\` was promoted, then moved by another writer; it now names ${digest ? `\`${digest}\`` : "nothing"}, so it is not among the promoted tags.`,
    );
  }
  if (report.failure) lines.push(`**Failed:** ${report.failure}`);
  return lines.join("\n\n");
}

/** The `attestations` output: one entry per image and predicate, in the order they were pushed. */
export function attestationsOutput(report: AttestImagesReport | undefined): string {
  return JSON.stringify(
    (report?.results ?? []).map((r) => ({
      image: r.image,
      digest: r.digest,
      type: r.type,
      predicateType: r.predicateType,
      reference: `${r.pushed.reference}@${r.pushed.digest}`,
      layer: r.pushed.layerDigest,
      verified: r.verified,
    })),
  );
}

/** The summary's attestation section; empty when nothing was attested. */
export function attestationsMarkdown(report: AttestImagesReport | undefined): string {
  const results = report?.results ?? [];
  if (results.length === 0) return "";
  const rows = results.map((r) => [
    `\`${r.image}\``,
    `${r.type} (\`${r.predicateType}\`) from \`${r.path}\``,
    `\`${r.pushed.reference}\` layer \`${r.pushed.layerDigest}\``,
    r.verified ? "✅ verified" : `❌ ${r.message}`,
  ]);
  const ok = results.filter((r) => r.verified).length;
  return [
    `Attested ${ok} of ${results.length} in-toto statement(s) as DSSE envelopes in \`sha256-<hex>.att\` (where \`cosign verify-attestation\` looks).`,
    markdownTable(["image", "predicate", "stored in", "verification"], rows),
  ].join("\n\n");
}
