/**
 * A workflow the local runner cannot run as written, or a feature it does not model: the message names
 * the job (and step) and the feature, so the fix is obvious from the message alone.
 */
export class WorkflowError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = "WorkflowError";
  }
}

/** "job build (a, linux/amd64)", "job build step 3 (id build)": how errors and logs name places. */
export function stepWhere(job: string, index: number, id?: string): string {
  return `job ${job} step ${index + 1}${id && !id.startsWith("__") ? ` (id ${id})` : ""}`;
}
