export { run, failureMessage } from "./run";
export { isPostStep, readState, saveState } from "./state";
export { coreLogger } from "./core-logger";
export { inputGetter, setJsonOutput, setOutput, writeSummary } from "./inputs-core";
