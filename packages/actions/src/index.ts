export { run, failureMessage, type WorkerRole } from "./run";
export { isPostStep, readState, saveState, STATE } from "./state";
export { coreLogger } from "./core-logger";
export { inputGetter, setJsonOutput, setOutput, writeSummary } from "./runner-io";
