import { data, Evaluator, Lexer, Parser, type Expr } from "@actions/expressions";
import {
  Binary,
  ContextAccess,
  FunctionCall,
  Grouping,
  IndexAccess,
  Literal,
  Logical,
  Unary,
} from "@actions/expressions/ast";
import type { FunctionDefinition, FunctionInfo } from "@actions/expressions/funcs/info";
import { truthy } from "@actions/expressions/result";

/**
 * `${{ … }}` through GitHub's own lexer, parser and evaluator (@actions/expressions). What is ours: which
 * contexts exist, the status functions (whose answer depends on the job, so the caller gives them), and
 * for action defaults the rule that a context a local run cannot know is reported, never guessed.
 */

/** The contexts a workflow may name (GitHub's list for jobs and steps). */
export const CONTEXT_NAMES = [
  "github",
  "inputs",
  "needs",
  "matrix",
  "steps",
  "secrets",
  "runner",
  "job",
  "jobs",
  "env",
  "strategy",
  "vars",
] as const;

/** How the job stands when a status function is called. */
export interface JobStatus {
  success: () => boolean;
  failure: () => boolean;
  cancelled: () => boolean;
}

export class ExpressionFailure extends Error {
  constructor(
    readonly expression: string,
    problem: string,
  ) {
    super(`\${{ ${expression} }}: ${problem}`);
    this.name = "ExpressionFailure";
  }
}

const STATUS_NAMES = ["success", "failure", "cancelled", "always"] as const;
const FUNCTION_INFOS: FunctionInfo[] = [
  ...STATUS_NAMES.map((name) => ({ name, minArgs: 0, maxArgs: 0 })),
  { name: "hashFiles", minArgs: 1, maxArgs: 255 },
];

export function parseExpression(expression: string): Expr {
  try {
    const lexed = new Lexer(expression).lex();
    return new Parser(lexed.tokens, [...CONTEXT_NAMES], FUNCTION_INFOS).parse();
  } catch (error) {
    throw new ExpressionFailure(expression, (error as Error).message);
  }
}

function functions(expression: string, status?: JobStatus): Map<string, FunctionDefinition> {
  const unknown = (name: string) => (): never => {
    throw new ExpressionFailure(expression, `${name}() is not available here`);
  };
  const bool = (value: () => boolean) => () => new data.BooleanData(value());
  const defs: FunctionDefinition[] = [
    { name: "success", minArgs: 0, maxArgs: 0, call: status ? bool(status.success) : unknown("success") },
    { name: "failure", minArgs: 0, maxArgs: 0, call: status ? bool(status.failure) : unknown("failure") },
    {
      name: "cancelled",
      minArgs: 0,
      maxArgs: 0,
      call: status ? bool(status.cancelled) : unknown("cancelled"),
    },
    { name: "always", minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(true) },
    {
      name: "hashFiles",
      minArgs: 1,
      maxArgs: 255,
      call: () => {
        throw new ExpressionFailure(expression, "hashFiles() is not supported by the local runner");
      },
    },
  ];
  // The evaluator looks functions up by their lower-cased name.
  return new Map(defs.map((def) => [def.name.toLowerCase(), def]));
}

/** Plain JSON values → the evaluator's data, the way the runner hands contexts over. */
export function toExpressionData(value: unknown): data.Dictionary {
  return JSON.parse(JSON.stringify(value ?? {}), data.reviver) as data.Dictionary;
}

/** Evaluates one expression (without `${{ }}`) to a plain JSON value. */
export function evaluateExpression(
  expression: string,
  contexts: Record<string, unknown>,
  status?: JobStatus,
): unknown {
  const parsed = parseExpression(expression);
  let result: data.ExpressionData;
  try {
    result = new Evaluator(parsed, toExpressionData(contexts), functions(expression, status)).evaluate();
  } catch (error) {
    if (error instanceof ExpressionFailure) throw error;
    throw new ExpressionFailure(expression, (error as Error).message);
  }
  return JSON.parse(JSON.stringify(result, data.replacer)) as unknown;
}

/** The string a value becomes where the runner puts it in text: GitHub's coercion (null → '', 3.0 → '3'). */
export function coerceString(value: unknown): string {
  return toExpressionData({ v: value }).get("v")?.coerceString() ?? "";
}

/** `if:` semantics: a bare expression, or one wrapped in `${{ }}`. */
export function evaluateCondition(
  condition: string,
  contexts: Record<string, unknown>,
  status: JobStatus,
): boolean {
  const wrapped = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(condition);
  const expression = (wrapped ? wrapped[1] : condition)?.trim() ?? "";
  const value = evaluateExpression(expression, contexts, status);
  return truthy(toExpressionData({ v: value }).get("v") ?? new data.Null());
}

const TEMPLATE = /\$\{\{([\s\S]*?)\}\}/g;

/**
 * A string with `${{ }}` in it: a whole-string expression keeps its type (a `matrix:` from `fromJSON`
 * stays an object); anything else is text with each expression coerced to a string.
 */
export function evaluateTemplate(
  raw: string,
  contexts: Record<string, unknown>,
  status?: JobStatus,
): unknown {
  const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(raw);
  if (whole && !(whole[1] ?? "").includes("}}")) {
    return evaluateExpression((whole[1] ?? "").trim(), contexts, status);
  }
  return raw.replace(TEMPLATE, (_whole, inner: string) =>
    coerceString(evaluateExpression(inner.trim(), contexts, status)),
  );
}

/** Every `context.key` path an expression reads (a bare context reads the whole of it: `context`). */
export function contextPaths(expression: Expr): string[] {
  const paths: string[] = [];
  const walk = (node: Expr): void => {
    if (node instanceof IndexAccess) {
      if (
        node.expr instanceof ContextAccess &&
        node.index instanceof Literal &&
        node.index.literal.kind === data.Kind.String
      ) {
        paths.push(`${node.expr.name.lexeme}.${node.index.literal.coerceString()}`);
      } else walk(node.expr);
      walk(node.index);
    } else if (node instanceof ContextAccess) paths.push(node.name.lexeme);
    else if (node instanceof Unary) walk(node.expr);
    else if (node instanceof Binary) [node.left, node.right].forEach(walk);
    else if (node instanceof Logical) node.args.forEach(walk);
    else if (node instanceof Grouping) walk(node.group);
    else if (node instanceof FunctionCall) node.args.forEach(walk);
  };
  walk(expression);
  return paths;
}

/**
 * The `${{ … }}` an action input's default can hold, evaluated only where a local run knows the answer:
 * contexts that map onto env vars (`github.token` → GITHUB_TOKEN, `github.workspace` → GITHUB_WORKSPACE,
 * `runner.temp` → RUNNER_TEMP, `env.NAME` → NAME), literals and functions over them. Anything else is left
 * for the caller to report: a local single-action run cannot know `secrets.X` or `steps.y.outputs.z`.
 */
export interface DefaultValue {
  value: string;
  /** Expressions that could not be evaluated; when non-empty, `value` is "". */
  unresolved: string[];
}

/** Maps a context path to the env var the runner would take it from, or undefined when there is none. */
export function contextEnvName(path: string): string | undefined {
  const match = /^(github|runner|env)\.([A-Za-z_][\w-]*)$/.exec(path);
  if (!match) return undefined;
  const [, context, key = ""] = match;
  if (context === "env") return key;
  return `${context === "github" ? "GITHUB" : "RUNNER"}_${key.toUpperCase()}`;
}

function knownContexts(
  parsed: Expr,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, Record<string, string>> | undefined {
  const contexts: Record<string, Record<string, string>> = {};
  for (const path of contextPaths(parsed)) {
    const name = contextEnvName(path);
    const value = name === undefined ? undefined : env[name];
    if (value === undefined || value === "") return undefined;
    const [context = "", key = ""] = path.split(".");
    (contexts[context] ??= {})[key] = value;
  }
  return contexts;
}

export function evaluateDefault(
  raw: string,
  env: Readonly<Record<string, string | undefined>>,
): DefaultValue {
  const unresolved: string[] = [];
  const value = raw.replace(TEMPLATE, (whole, inner: string) => {
    const expression = inner.trim();
    let contexts: Record<string, Record<string, string>> | undefined;
    try {
      contexts = knownContexts(parseExpression(expression), env);
    } catch {
      contexts = undefined;
    }
    if (contexts === undefined) {
      unresolved.push(whole);
      return "";
    }
    return coerceString(evaluateExpression(expression, contexts));
  });
  return unresolved.length > 0 ? { value: "", unresolved } : { value, unresolved };
}
