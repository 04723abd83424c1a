/**
 * JSON rendered byte for byte the way Go's encoding/json writes it, because cosign's payload and
 * manifests are signed or digested as Go wrote them. Differences from JSON.stringify: object keys
 * sorted by their UTF-8 bytes (Go sorts map keys), `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`…, other control characters as lowercase `\u00XX` except `\b \f \n \r \t` (Go ≥ 1.22).
 * Objects given here are maps; structs with a fixed field order are composed by the caller.
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return goJsonString(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`);
      // Go's float formatting ('f' below 1e21, 'e' below 1e-6, shortest digits) prints what JS prints.
      return JSON.stringify(value);
    case "object":
      if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
      return goJsonObject(value as Record<string, unknown>);
    default:
      throw new TypeError(`cannot encode a ${typeof value} as JSON`);
  }
}

function goJsonObject(object: Record<string, unknown>): string {
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort(compareUtf8);
  return `{${keys.map((key) => `${goJsonString(key)}:${goJson(object[key])}`).join(",")}}`;
}

/** Go compares map keys as byte strings; UTF-16 order differs for characters above U+FFFF. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

export function goJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code < 0x20 || ch === "<" || ch === ">" || ch === "&" || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += ch + (text[i + 1] as string);
        i++;
      } else out += "\\ufffd"; // Go writes invalid UTF-8 (what a lone surrogate becomes) as U+FFFD
    } else if (code >= 0xdc00 && code <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return `${out}"`;
}
