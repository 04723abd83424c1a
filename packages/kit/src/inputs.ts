import { InputError } from "./errors";
import { parseList, type ListOptions } from "./input-list";

/**
 * Reads one action input by name; "" when unset. Entries pass `core.getInput`, tests a record lookup, so
 * the parsing here never touches the runner.
 */
export type InputGetter = (name: string) => string;

/** Builds a getter from a plain record, for tests and the local CLI. */
export function inputsFrom(values: Record<string, string | undefined>): InputGetter {
  return (name) => values[name] ?? "";
}

/** Long values are cut in error messages: enough to recognise, never a wall of text. */
function shown(raw: string): string {
  const text = raw.trim();
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** The trimmed value, or undefined when empty. */
export function getOptionalString(get: InputGetter, name: string): string | undefined {
  const value = get(name).trim();
  return value === "" ? undefined : value;
}

export function getList(get: InputGetter, name: string, options: Omit<ListOptions, "input"> = {}): string[] {
  return parseList(get(name), { ...options, input: name });
}

const TRUE_VALUES = ["true", "True", "TRUE"];
const FALSE_VALUES = ["false", "False", "FALSE"];

/** Strict YAML 1.2 core-schema booleans, as @actions/core's getBooleanInput; empty → `fallback`. */
export function parseBoolean(name: string, raw: string, fallback?: boolean): boolean {
  const value = raw.trim();
  if (TRUE_VALUES.includes(value)) return true;
  if (FALSE_VALUES.includes(value)) return false;
  const accepted = `one of: ${[...TRUE_VALUES, ...FALSE_VALUES].join(", ")}`;
  if (value === "") {
    if (fallback !== undefined) return fallback;
    throw new InputError(name, "is required but was empty", accepted);
  }
  return fail(name, `got '${shown(value)}'`, accepted);
}

export function getBoolean(get: InputGetter, name: string, fallback?: boolean): boolean {
  return parseBoolean(name, get(name), fallback);
}

/** One of `values`, matched exactly; empty → `fallback`. */
export function parseEnum<const T extends readonly string[]>(
  name: string,
  raw: string,
  values: T,
  fallback?: T[number],
): T[number] {
  const value = raw.trim();
  const accepted = `one of: ${values.join(", ")}`;
  if (value === "") {
    if (fallback !== undefined) return fallback;
    throw new InputError(name, "is required but was empty", accepted);
  }
  const match = values.find((v) => v === value);
  if (match !== undefined) return match;
  return fail(name, `got '${shown(value)}'`, accepted);
}

export function getEnum<const T extends readonly string[]>(
  get: InputGetter,
  name: string,
  values: T,
  fallback?: T[number],
): T[number] {
  return parseEnum(name, get(name), values, fallback);
}

/**
 * `KEY=VALUE` lines into a map: the first `=` splits, so values may hold `=`; blank and `#` lines are skipped.
 * Errors name the line number but never echo the line: values are often build secrets.
 */
export function parseKeyValues(name: string, raw: string): Map<string, string> {
  const result = new Map<string, string>();
  const firstLine = new Map<string, number>();
  raw.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    const lineNumber = index + 1;
    if (line === "" || line.startsWith("#")) return;
    const equals = line.indexOf("=");
    if (equals < 0) fail(name, `line ${lineNumber} has no '='`, "KEY=VALUE lines");
    const key = line.slice(0, equals).trim();
    if (key === "") fail(name, `line ${lineNumber} has an empty key before '='`, "KEY=VALUE lines");
    const previous = firstLine.get(key);
    if (previous !== undefined) {
      fail(name, `line ${lineNumber} repeats key '${shown(key)}' from line ${previous}`, "each key once");
    }
    firstLine.set(key, lineNumber);
    result.set(key, line.slice(equals + 1).trim());
  });
  return result;
}

export function getKeyValues(get: InputGetter, name: string): Map<string, string> {
  return parseKeyValues(name, get(name));
}

const HOST_PORT =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
const HOST_ACCEPTED =
  "registry hosts as host or host:port (e.g. registry.local:5000, [::1]:5000), no scheme or path";

/** One `host[:port]` (a DNS name, an IPv4 address or a bracketed IPv6 one; port 1–65535), or an InputError. */
export function parseHostPort(name: string, raw: string): string {
  const value = raw.trim();
  const port = HOST_PORT.exec(value)?.[1];
  if (!HOST_PORT.test(value) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    return fail(name, `got '${shown(value)}'`, HOST_ACCEPTED);
  }
  return value;
}

/** A list of `host[:port]` entries (e.g. insecure registries), each checked by parseHostPort. */
export function getHostList(get: InputGetter, name: string): string[] {
  return getList(get, name).map((entry) => parseHostPort(name, entry));
}

export interface IntegerOptions {
  min?: number;
  max?: number;
  /** Returned for an empty value; without it an empty value is an error. */
  default?: number;
}

export function parseInteger(name: string, raw: string, options: IntegerOptions = {}): number {
  const { min, max } = options;
  const accepted =
    min !== undefined && max !== undefined
      ? `an integer from ${min} to ${max}`
      : min !== undefined
        ? `an integer ≥ ${min}`
        : max !== undefined
          ? `an integer ≤ ${max}`
          : "an integer";
  const text = raw.trim();
  if (text === "") {
    if (options.default !== undefined) return options.default;
    throw new InputError(name, "is required but was empty", accepted);
  }
  const value = Number(text) + 0; // + 0 turns "-0" into 0
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value))
    return fail(name, `got '${shown(text)}'`, accepted);
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    return fail(name, `got ${value}`, accepted);
  }
  return value;
}

export function getInteger(get: InputGetter, name: string, options: IntegerOptions = {}): number {
  return parseInteger(name, get(name), options);
}

function fail(name: string, problem: string, accepted: string): never {
  throw new InputError(name, problem, accepted);
}
