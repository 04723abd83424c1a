/**
 * The `${{ … }}` a default can hold, evaluated only where a local run knows the answer: contexts that
 * map onto env vars (`github.token` → GITHUB_TOKEN, `github.workspace` → GITHUB_WORKSPACE,
 * `runner.temp` → RUNNER_TEMP, `env.NAME` → NAME) and literals. Anything else is left for the caller
 * to report: a local run cannot know `secrets.X` or `steps.y.outputs.z`.
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

function literal(expression: string): string | undefined {
  if (/^'(?:[^']|'')*'$/.test(expression)) return expression.slice(1, -1).replace(/''/g, "'");
  if (/^(true|false|null)$/.test(expression)) return expression === "null" ? "" : expression;
  if (/^-?\d+(\.\d+)?$/.test(expression)) return String(Number(expression));
  return undefined;
}

export function evaluateDefault(
  raw: string,
  env: Readonly<Record<string, string | undefined>>,
): DefaultValue {
  const unresolved: string[] = [];
  const value = raw.replace(/\$\{\{([\s\S]*?)\}\}/g, (whole, inner: string) => {
    const expression = inner.trim();
    const fromLiteral = literal(expression);
    if (fromLiteral !== undefined) return fromLiteral;
    const name = contextEnvName(expression);
    const resolved = name === undefined ? undefined : env[name];
    if (resolved === undefined || resolved === "") {
      unresolved.push(whole);
      return "";
    }
    return resolved;
  });
  return unresolved.length > 0 ? { value: "", unresolved } : { value, unresolved };
}
