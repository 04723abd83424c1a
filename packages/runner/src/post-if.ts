/** How the job stands when the post step's condition is evaluated. A local run is never cancelled. */
export interface StepStatus {
  mainSucceeded: boolean;
}

const ACCEPTED =
  "always(), success(), failure(), cancelled(), true, false, combined with !, &&, || and parentheses";

/**
 * Evaluates a `post-if` the simple way: the status functions and boolean literals, `!`, `&&`, `||` and
 * parentheses, optionally wrapped in `${{ }}`. Anything else (contexts, comparisons) throws, naming
 * what is accepted, rather than guessing. A missing `post-if` means `always()`, as on the runner.
 */
export function evaluatePostIf(expression: string | undefined, status: StepStatus): boolean {
  let text = (expression ?? "").trim();
  if (text === "") return true;
  const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(text);
  if (wrapped) text = (wrapped[1] ?? "").trim();
  const tokens = text.match(/\s+|&&|\|\||!|\(|\)|[A-Za-z_][\w-]*\(\s*\)|[^\s()!&|]+|./g) ?? [];
  const significant = tokens.filter((t) => t.trim() !== "");
  let position = 0;
  const fail = (problem: string): never => {
    throw new Error(`post-if '${expression}': ${problem}; accepted: ${ACCEPTED}`);
  };
  const peek = () => significant[position];

  const primary = (): boolean => {
    const token = significant[position++];
    if (token === undefined) return fail("ends too early");
    if (token === "!") return !primary();
    if (token === "(") {
      const value = or();
      if (significant[position++] !== ")") fail("a '(' is not closed");
      return value;
    }
    switch (token.replace(/\s+/g, "")) {
      case "always()":
      case "true":
        return true;
      case "success()":
        return status.mainSucceeded;
      case "failure()":
        return !status.mainSucceeded;
      case "cancelled()":
      case "false":
        return false;
      default:
        return fail(`'${token}' is not understood`);
    }
  };
  const and = (): boolean => {
    let value = primary();
    while (peek() === "&&") {
      position++;
      const right = primary();
      value = value && right;
    }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (peek() === "||") {
      position++;
      const right = and();
      value = value || right;
    }
    return value;
  };

  const result = or();
  if (position < significant.length) fail(`unexpected '${significant[position]}'`);
  return result;
}
