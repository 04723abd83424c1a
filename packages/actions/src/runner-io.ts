// What an action exchanges with the runner: inputs in, outputs and the job summary out (the only
// @actions/core calls besides the logger and the post-step state).
import * as core from "@actions/core";
import type { InputGetter } from "@frostyard/kit";

/**
 * Reads inputs as the runner passed them (`INPUT_<NAME>`), untrimmed: the kit's parsers trim and
 * validate, so a multi-line input keeps its shape until then.
 */
export const inputGetter: InputGetter = (name) => core.getInput(name, { trimWhitespace: false });

/** Outputs are strings; a structured one is JSON so the next step can `fromJSON` it. */
export function setJsonOutput(name: string, value: unknown): void {
  core.setOutput(name, JSON.stringify(value));
}

export function setOutput(name: string, value: string): void {
  core.setOutput(name, value);
}

/**
 * Appends markdown to the job summary. Outside a runner (no GITHUB_STEP_SUMMARY) the summary is only
 * logged at debug level: a missing summary file must never fail the work it summarises.
 */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug("no GITHUB_STEP_SUMMARY: summary not written");
    return;
  }
  await core.summary.addRaw(markdown, true).write();
}
