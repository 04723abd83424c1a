/** A bad action input: names the input, what was wrong and what is accepted. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, problem: string, accepted?: string) {
    super(`input '${input}': ${problem}${accepted ? `; expected ${accepted}` : ""}`);
    this.name = "InputError";
    this.input = input;
  }
}

/**
 * What a user sees for an error. An InputError's message is already written for the user and is shown as
 * it is; other errors get their causes appended (up to five), since e.g. `fetch failed` alone says nothing
 * of the refused connection or DNS failure underneath. A cause whose text is already shown is not repeated.
 */
export function messageWithCauses(error: unknown): string {
  if (error instanceof InputError) return error.message;
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const text = cause instanceof Error ? cause.message : String(cause);
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(": ");
}
