/**
 * The TOML the builders' configs use: tables, arrays of tables, dotted and quoted keys, basic/literal strings
 * (multi-line too), integers, floats, booleans, arrays and inline tables. Dates are not in either builder's
 * config and are refused. A parse error names the line.
 */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "TomlError";
  }
}

const isTable = (v: unknown): v is TomlTable => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseToml(text: string): TomlTable {
  let i = 0;
  const root: TomlTable = {};
  let current = root;
  const defined = new Set<TomlTable>();
  const lineAt = () => text.slice(0, i).split("\n").length;
  const fail = (problem: string): never => {
    throw new TomlError(lineAt(), problem);
  };
  const skipWs = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t")) i++;
  };
  const skipComment = () => {
    if (text[i] === "#") while (i < text.length && text[i] !== "\n") i++;
  };
  const skipBlank = () => {
    for (;;) {
      skipWs();
      skipComment();
      if (text[i] === "\n" || text[i] === "\r") i++;
      else return;
    }
  };
  const endOfLine = () => {
    skipWs();
    skipComment();
    if (text[i] === "\r") i++;
    if (i < text.length && text[i] !== "\n") fail(`unexpected '${text[i]}' after a value`);
    i++;
  };
  const escapes: Record<string, string> = {
    b: "\b",
    t: "\t",
    n: "\n",
    f: "\f",
    r: "\r",
    '"': '"',
    "\\": "\\",
  };
  const basicString = (multi: boolean): string => {
    let out = "";
    if (multi && text[i] === "\n") i++;
    else if (multi && text.startsWith("\r\n", i)) i += 2;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      if (multi ? text.startsWith('"""', i) : text[i] === '"') {
        i += multi ? 3 : 1;
        return out;
      }
      const c = text[i]!;
      if (!multi && c === "\n") fail("newline in a one-line string");
      if (c === "\\") {
        const e = text[i + 1]!;
        if (multi && /[ \t\r\n]/.test(e)) {
          i++;
          while (/[ \t\r\n]/.test(text[i] ?? "")) i++;
          continue;
        }
        if (e === "u" || e === "U") {
          const n = e === "u" ? 4 : 8;
          const hex = text.slice(i + 2, i + 2 + n);
          if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== n) fail("bad unicode escape");
          out += String.fromCodePoint(parseInt(hex, 16));
          i += 2 + n;
          continue;
        }
        if (!(e in escapes)) fail(`unknown escape \\${e}`);
        out += escapes[e];
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
  };
  const literalString = (multi: boolean): string => {
    if (multi && text[i] === "\n") i++;
    const end = text.indexOf(multi ? "'''" : "'", i);
    if (end < 0) fail("unterminated string");
    const out = text.slice(i, end);
    if (!multi && out.includes("\n")) fail("newline in a one-line string");
    i = end + (multi ? 3 : 1);
    return out;
  };
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipWs();
      if (text[i] === '"') {
        i++;
        parts.push(basicString(false));
      } else if (text[i] === "'") {
        i++;
        parts.push(literalString(false));
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
        if (!m) fail("expected a key");
        parts.push(m![0]);
        i += m![0].length;
      }
      skipWs();
      if (text[i] !== ".") return parts;
      i++;
    }
  };
  const value = (): TomlValue => {
    skipWs();
    if (text.startsWith('"""', i)) return ((i += 3), basicString(true));
    if (text[i] === '"') return (i++, basicString(false));
    if (text.startsWith("'''", i)) return ((i += 3), literalString(true));
    if (text[i] === "'") return (i++, literalString(false));
    if (text[i] === "[") {
      i++;
      const items: TomlValue[] = [];
      for (;;) {
        skipBlank();
        if (text[i] === "]") return (i++, items);
        items.push(value());
        skipBlank();
        if (text[i] === ",") i++;
        else if (text[i] !== "]") fail("expected ',' or ']' in an array");
      }
    }
    if (text[i] === "{") {
      i++;
      const table: TomlTable = {};
      skipWs();
      if (text[i] === "}") return (i++, table);
      for (;;) {
        const k = key();
        if (text[i] !== "=") fail("expected '=' in an inline table");
        i++;
        assign(table, k, value());
        skipWs();
        if (text[i] === "}") return (i++, table);
        if (text[i] !== ",") fail("expected ',' or '}' in an inline table");
        i++;
      }
    }
    const m = /^[^\s,\]}#]+/.exec(text.slice(i));
    if (!m) return fail("expected a value");
    const word = m[0];
    i += word.length;
    if (word === "true") return true;
    if (word === "false") return false;
    if (/^[+-]?(0|[1-9](_?\d)*)$/.test(word)) return Number(word.replace(/_/g, ""));
    if (/^0x[0-9A-Fa-f_]+$/.test(word)) return parseInt(word.slice(2).replace(/_/g, ""), 16);
    if (/^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d+)?$/.test(word))
      return Number(word.replace(/_/g, ""));
    return fail(`'${word.slice(0, 40)}' is not a value this config takes`);
  };
  const assign = (table: TomlTable, path: string[], v: TomlValue) => {
    let t = table;
    for (const part of path.slice(0, -1)) {
      const next = t[part] ?? (t[part] = {});
      if (!isTable(next)) fail(`'${part}' is already a value`);
      t = next as TomlTable;
    }
    const last = path[path.length - 1]!;
    if (last in t) fail(`'${path.join(".")}' is defined twice`);
    t[last] = v;
  };
  const descend = (path: string[], arrayOfTables: boolean): TomlTable => {
    let t = root;
    path.forEach((part, n) => {
      const lastPart = n === path.length - 1;
      let next = t[part];
      if (lastPart && arrayOfTables) {
        if (next === undefined) next = t[part] = [];
        if (!Array.isArray(next)) fail(`'${path.join(".")}' is not an array of tables`);
        const fresh: TomlTable = {};
        (next as TomlValue[]).push(fresh);
        t = fresh;
        return;
      }
      if (next === undefined) next = t[part] = {};
      if (Array.isArray(next)) next = next[next.length - 1];
      if (!isTable(next)) fail(`'${part}' is already a value`);
      t = next as TomlTable;
    });
    return t;
  };

  for (;;) {
    skipBlank();
    if (i >= text.length) return root;
    if (text[i] === "[") {
      const aot = text[i + 1] === "[";
      i += aot ? 2 : 1;
      const path = key();
      if (text.slice(i, i + (aot ? 2 : 1)) !== (aot ? "]]" : "]")) fail("unterminated table header");
      i += aot ? 2 : 1;
      current = descend(path, aot);
      if (!aot) {
        if (defined.has(current)) fail(`table [${path.join(".")}] is defined twice`);
        defined.add(current);
      }
      endOfLine();
      continue;
    }
    const k = key();
    if (text[i] !== "=") fail("expected '=' after a key");
    i++;
    assign(current, k, value());
    endOfLine();
  }
}

const BARE = /^[A-Za-z0-9_-]+$/;
const renderKey = (k: string) => (BARE.test(k) ? k : JSON.stringify(k));

function renderString(s: string): string {
  // Multi-line text (a kickstart) stays readable as TOML's """ form, as the builders' examples write it.
  // eslint-disable-next-line no-control-regex -- control characters are what keeps a string out of """.
  if (s.includes("\n") && !s.includes('"""') && !/[\x00-\x08\x0b-\x1f\x7f\\]/.test(s)) return `"""\n${s}"""`;
  return JSON.stringify(s);
}

function renderInline(v: TomlValue): string {
  if (typeof v === "string") return renderString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(renderInline).join(", ")}]`;
  return `{ ${Object.entries(v)
    .map(([k, x]) => `${renderKey(k)} = ${renderInline(x)}`)
    .join(", ")} }`;
}

const isTableArray = (v: TomlValue): v is TomlTable[] => Array.isArray(v) && v.length > 0 && v.every(isTable);

/** TOML for a plain object (what JSON.parse gives), tables and arrays of tables as headers. */
export function renderToml(table: TomlTable): string {
  const out: string[] = [];
  const walk = (t: TomlTable, path: string[]) => {
    const scalars = Object.entries(t).filter(([, v]) => !isTable(v) && !isTableArray(v));
    for (const [k, v] of scalars) out.push(`${renderKey(k)} = ${renderInline(v)}`);
    for (const [k, v] of Object.entries(t)) {
      const p = [...path, renderKey(k)];
      if (isTable(v)) {
        const hasScalars = Object.values(v).some((x) => !isTable(x) && !isTableArray(x));
        if (hasScalars) out.push("", `[${p.join(".")}]`);
        walk(v, p);
      } else if (isTableArray(v)) {
        for (const item of v) {
          out.push("", `[[${p.join(".")}]]`);
          walk(item, p);
        }
      }
    }
  };
  walk(table, []);
  return out.join("\n").replace(/^\n+/, "") + "\n";
}
