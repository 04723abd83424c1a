import { coerceString, evaluateTemplate } from "./expressions";

/** A template value evaluated deeply: mapping keys stay, every string is a `${{ }}` template. */
export function evaluateDeep(value: unknown, contexts: Record<string, unknown>): unknown {
  if (typeof value === "string") return evaluateTemplate(value, contexts);
  if (Array.isArray(value)) return value.map((item) => evaluateDeep(item, contexts));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateDeep(v, contexts)]));
  }
  return value;
}

export function stringMap(value: unknown, contexts: Record<string, unknown>): Record<string, string> {
  if (value === undefined || value === null) return {};
  const evaluated = evaluateDeep(value, contexts) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(evaluated).map(([k, v]) => [k, coerceString(v)]));
}
