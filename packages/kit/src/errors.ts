/** A bad action input: names the input, what was wrong and what is accepted. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, problem: string, accepted?: string) {
    super(`input '${input}': ${problem}${accepted ? `; expected ${accepted}` : ""}`);
    this.name = "InputError";
    this.input = input;
  }
}
