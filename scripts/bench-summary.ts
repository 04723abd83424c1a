/** What the benchmarks read back from an action's job summary. */

/** The "Time per stage" table of a summary: stage name → its duration as written. */
export function stagesOf(summary: string): Map<string, string> {
  const stages = new Map<string, string>();
  const section = summary.split("### Time per stage")[1] ?? "";
  for (const line of section.split("\n")) {
    const match = /^\| (.+?) \| (.+?) \|$/.exec(line.trim());
    if (match && match[1] !== "step" && !match[1]!.startsWith("---")) stages.set(match[1]!, match[2]!);
  }
  return stages;
}
