import type { CommentSlot } from "./types";

/** Offsets of the first character of every line, for turning offsets into 1-based line:column. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

export function locate(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/**
 * Where a `# version` comment goes after a value ending at `end`: the rest of the line when it is blank or
 * a comment (`text` is the old comment's text), or undefined when more YAML follows on the same line and
 * a comment would swallow it.
 */
export function commentSlot(text: string, end: number): CommentSlot | undefined {
  const nl = text.indexOf("\n", end);
  const rest = text.slice(end, nl === -1 ? text.length : nl).replace(/\r$/, "");
  const lineStart = text.lastIndexOf("\n", end - 1) + 1;
  const line = {
    lineStart,
    indent: /^[ \t]*/.exec(text.slice(lineStart))![0],
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
  if (/^[ \t]*$/.test(rest)) return { start: end, end: end + rest.length, ...line };
  const m = /^[ \t]+#(.*)$/.exec(rest);
  if (!m) return undefined;
  return { start: end, end: end + rest.length, text: m[1]!.trim(), ...line };
}
