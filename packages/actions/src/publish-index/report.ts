import { heading, markdownTable } from "@frostyard/kit";
import type { PublishedIndex } from "@frostyard/publish";

/** The job summary: the index, its tags and one row per platform. */
export function summaryMarkdown(published: PublishedIndex): string {
  return [
    heading(`publish-index ${published.image}`),
    `Tags: ${published.tags.map((t) => `\`${t}\``).join(", ")}`,
    markdownTable(
      ["platform", "manifest"],
      published.platforms.map((p) => [p.platform, `\`${p.digest}\``]),
    ),
  ].join("\n\n");
}
