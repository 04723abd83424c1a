/** One lint that did not pass, from bootc's output or from our native checks. */
export interface Finding {
  lint: string;
  /** bootc's text (for lists: a header line, then "  item" lines), without the trailing newline. */
  message: string;
  /** `bootc`: printed by bootc inside the image; `native`: found by our checks on the filesystem. */
  source: "bootc" | "native";
  /** Items bootc left out ("...and N more" / "(and N more)"), summed; 0 when the list is complete. */
  omitted: number;
}

/** The `{lint, message}` shape of the action's `failures` and `warnings` outputs. */
export function findingRecords(findings: readonly Finding[]): { lint: string; message: string }[] {
  return findings.map(({ lint, message }) => ({ lint, message }));
}
