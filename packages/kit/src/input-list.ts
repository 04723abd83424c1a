import { InputError } from "./errors";

export interface ListOptions {
  /** Split on commas as well as newlines; default true. Without it each line is one item, taken literally. */
  comma?: boolean;
  /** The input name for error messages; default "list". */
  input?: string;
}

/**
 * Items separated by newlines (and commas unless `comma: false`), trimmed, blanks dropped. `#` starts a comment
 * at the start of a line or after whitespace (`a#b` is one item, `a #b` is `a`). With commas on, an item may be
 * CSV-quoted: `"a,b"` is one item, `""` inside quotes is a quote, and the quoted text is kept as written.
 */
export function parseList(raw: string, options: ListOptions = {}): string[] {
  const comma = options.comma ?? true;
  const input = options.input ?? "list";
  const items: string[] = [];
  raw.split(/\r?\n/).forEach((line, index) => {
    if (comma) items.push(...splitCsvLine(line, input, index + 1));
    else items.push(stripComment(line).trim());
  });
  return items.filter((item) => item !== "");
}

/** Cuts a line at a `#` that starts it or follows whitespace. */
function stripComment(line: string): string {
  const match = /(^|\s)#/.exec(line);
  return match ? line.slice(0, match.index) : line;
}

function splitCsvLine(line: string, input: string, lineNumber: number): string[] {
  const items: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isBlank(line[i])) i++;
    if (line[i] === "#") return items; // a comment at the start of an item: the rest of the line is gone
    if (line[i] === '"') {
      const { value, end } = readQuoted(line, i + 1, input, lineNumber);
      items.push(value);
      i = end;
      while (i < line.length && isBlank(line[i])) i++;
      if (i < line.length && line[i] !== "," && line[i] !== "#") {
        throw new InputError(
          input,
          `line ${lineNumber}: unexpected text after a closing quote`,
          'a quoted item to end at a comma or the end of the line (write "" for a quote inside quotes)',
        );
      }
    } else {
      let value = "";
      while (i < line.length && line[i] !== ",") {
        if (line[i] === "#" && isBlank(line[i - 1])) return [...items, value.trim()];
        value += line[i];
        i++;
      }
      items.push(value.trim());
    }
    if (i >= line.length || line[i] === "#") return items;
    i++; // past the comma
  }
}

function readQuoted(
  line: string,
  start: number,
  input: string,
  lineNumber: number,
): { value: string; end: number } {
  let value = "";
  for (let i = start; i < line.length; i++) {
    if (line[i] !== '"') {
      value += line[i];
    } else if (line[i + 1] === '"') {
      value += '"';
      i++;
    } else {
      return { value, end: i + 1 };
    }
  }
  throw new InputError(input, `line ${lineNumber}: a quote is not closed`, 'a closing " on the same line');
}

function isBlank(char: string | undefined): boolean {
  return char === " " || char === "\t";
}
