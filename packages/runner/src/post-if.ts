import { FunctionCall, type Expr } from "@actions/expressions/ast";
import { contextPaths, evaluateCondition, ExpressionFailure, parseExpression } from "./expressions";

/** How the job stands when the post step's condition is evaluated. A local run is never cancelled. */
export interface StepStatus {
  mainSucceeded: boolean;
}

const ACCEPTED =
  "always(), success(), failure(), cancelled(), true, false, combined with !, &&, || and parentheses";
const STATUS = new Set(["always", "success", "failure", "cancelled"]);

/** Names of the functions an expression calls that are not status functions. */
function otherFunctions(node: Expr): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof FunctionCall) {
      const name = value.functionName.lexeme;
      if (!STATUS.has(name.toLowerCase())) found.push(name);
    }
    if (value && typeof value === "object") {
      for (const child of Object.values(value)) if (child && typeof child === "object") walk(child);
    }
  };
  walk(node);
  return found;
}

/**
 * Evaluates a `post-if` with GitHub's parser and evaluator (@actions/expressions), optionally wrapped in
 * `${{ }}`. A single-action run knows no contexts, so an expression that reads one (or calls anything but
 * the status functions) is refused naming what is accepted, rather than guessed. A missing `post-if`
 * means `always()`, as on the runner.
 */
export function evaluatePostIf(expression: string | undefined, status: StepStatus): boolean {
  const text = (expression ?? "").trim();
  if (text === "") return true;
  const fail = (problem: string): never => {
    throw new Error(`post-if '${expression}': ${problem}; accepted: ${ACCEPTED}`);
  };
  const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(text);
  const inner = (wrapped ? (wrapped[1] ?? "") : text).trim();
  let parsed: Expr;
  try {
    parsed = parseExpression(inner);
  } catch (error) {
    return fail(
      error instanceof ExpressionFailure ? error.message.replace(/^\$\{\{.*?\}\}: /s, "") : String(error),
    );
  }
  const unknown = [...contextPaths(parsed), ...otherFunctions(parsed)];
  if (unknown.length > 0) fail(`'${unknown[0]}' is not understood`);
  return evaluateCondition(
    inner,
    {},
    {
      success: () => status.mainSucceeded,
      failure: () => !status.mainSucceeded,
      cancelled: () => false,
    },
  );
}
