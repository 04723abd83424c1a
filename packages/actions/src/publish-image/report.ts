import { formatBytes, heading, markdownTable } from "@frostyard/kit";
import type { PublishedImage } from "@frostyard/publish";

/** The job summary: what was pushed from which layout manifest, under which tags. */
export function summaryMarkdown(published: PublishedImage, layout: string, refName: string): string {
  return [
    heading(`publish-image ${published.repository}`),
    markdownTable(
      ["", ""],
      [
        ["image", `\`${published.image}\``],
        ["tags", published.tags.map((t) => `\`${t}\``).join(", ")],
        ["from", `\`${layout}\` (ref name \`${refName}\`)`],
        [
          "uploaded",
          `${formatBytes(published.uploadedBytes)} (${published.skippedBlobs} blob(s) already there)`,
        ],
      ],
    ),
  ].join("\n\n");
}
