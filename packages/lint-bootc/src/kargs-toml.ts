/** A parsed /usr/lib/bootc/kargs.d/*.toml file. */
export interface KargsFile {
  kargs: string[];
  matchArchitectures?: string[];
}

/**
 * Parses a kargs.d file the way bootc accepts it: TOML with exactly the keys `kargs` (required, an array
 * of strings) and `match-architectures` (optional, an array of strings); bootc denies any other key.
 * Only the TOML these files can validly hold is understood (comments, basic and literal strings,
 * arrays over several lines, trailing commas); anything else is an error, as it would be for bootc.
 * Returns the parsed file or a message saying what is wrong.
 */
export function parseKargsToml(text: string): { ok: true; value: KargsFile } | { ok: false; error: string } {
  const values = new Map<string, string[]>();
  let pos = 0;
  let line = 1;
  const fail = (message: string) => ({ ok: false as const, error: `line ${line}: ${message}` });
  const skipSpace = (newlines: boolean) => {
    while (pos < text.length) {
      const c = text[pos];
      if (c === " " || c === "\t" || c === "\r") pos++;
      else if (c === "#") while (pos < text.length && text[pos] !== "\n") pos++;
      else if (c === "\n" && newlines) {
        line++;
        pos++;
      } else break;
    }
  };
  const readString = (): string | { error: string } => {
    const quote = text[pos];
    pos++;
    let out = "";
    while (pos < text.length && text[pos] !== quote) {
      const c = text[pos] ?? "";
      if (c === "\n") return { error: "newline inside a string" };
      if (quote === '"' && c === "\\") {
        const e = text[pos + 1] ?? "";
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          n: "\n",
          t: "\t",
          r: "\r",
          b: "\b",
          f: "\f",
        };
        if (e in simple) {
          out += simple[e];
          pos += 2;
          continue;
        }
        const hex = e === "u" ? text.slice(pos + 2, pos + 6) : e === "U" ? text.slice(pos + 2, pos + 10) : "";
        if (hex && /^[0-9a-fA-F]+$/.test(hex) && hex.length === (e === "u" ? 4 : 8)) {
          out += String.fromCodePoint(parseInt(hex, 16));
          pos += 2 + hex.length;
          continue;
        }
        return { error: `invalid escape '\\${e}'` };
      }
      out += c;
      pos++;
    }
    if (pos >= text.length) return { error: "unterminated string" };
    pos++;
    return out;
  };

  for (;;) {
    skipSpace(true);
    if (pos >= text.length) break;
    if (text[pos] === "[")
      return fail("tables are not allowed; expected only the keys kargs and match-architectures");
    const key = /^(?:[A-Za-z0-9_-]+|"[^"\n]*")/.exec(text.slice(pos))?.[0];
    if (!key) return fail(`expected a key, found '${text.slice(pos, pos + 20).split("\n")[0]}'`);
    pos += key.length;
    const name = key.replace(/^"|"$/g, "");
    if (name !== "kargs" && name !== "match-architectures") {
      return fail(`unknown key '${name}'; expected kargs or match-architectures`);
    }
    if (values.has(name)) return fail(`duplicate key '${name}'`);
    skipSpace(false);
    if (text[pos] !== "=") return fail(`expected '=' after ${name}`);
    pos++;
    skipSpace(false);
    if (text[pos] !== "[") return fail(`${name} must be an array of strings`);
    pos++;
    const items: string[] = [];
    for (;;) {
      skipSpace(true);
      if (text[pos] === "]") {
        pos++;
        break;
      }
      if (text[pos] !== '"' && text[pos] !== "'") return fail(`${name} must be an array of strings`);
      const item = readString();
      if (typeof item !== "string") return fail(item.error);
      items.push(item);
      skipSpace(true);
      if (text[pos] === ",") pos++;
      else if (text[pos] !== "]") return fail(`expected ',' or ']' in ${name}`);
    }
    values.set(name, items);
    skipSpace(false);
    if (pos < text.length && text[pos] !== "\n") return fail(`unexpected '${text[pos]}' after ${name}`);
  }
  const kargs = values.get("kargs");
  if (!kargs) return { ok: false, error: "missing field `kargs`" };
  const matchArchitectures = values.get("match-architectures");
  return { ok: true, value: matchArchitectures ? { kargs, matchArchitectures } : { kargs } };
}
