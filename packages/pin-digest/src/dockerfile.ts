import { locate, lineStarts } from "./positions";
import type { Extraction, FoundRef, RefSource } from "./types";
import { findVariable } from "./variables";

/** An instruction after joining continuation lines; `offsets[i]` is where `text[i]` sits in the file. */
interface LogicalLine {
  text: string;
  offsets: number[];
}

interface Token {
  value: string;
  /** index into the logical line */
  from: number;
  to: number;
}

const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** Splits a Dockerfile into instructions, honouring `# escape=`, continuations, comments and heredocs. */
export function logicalLines(text: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let escape = "\\";
  let directivesOpen = true;
  let current: LogicalLine | undefined;
  const heredocs: { strip: boolean; word: string }[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    const lineEnd = nl === -1 ? text.length : nl;
    const raw = text.slice(pos, lineEnd).replace(/\r$/, "");
    const lineStart = pos;
    pos = lineEnd + 1;

    if (heredocs.length > 0) {
      const h = heredocs[0]!;
      if ((h.strip ? raw.replace(/^\t+/, "") : raw) === h.word) heredocs.shift();
      continue;
    }
    const trimmed = raw.trim();
    if (directivesOpen) {
      const directive = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(trimmed);
      if (directive && directive[1]!.toLowerCase() === "escape") {
        escape = directive[2]!;
        continue;
      }
      if (!directive) directivesOpen = false;
    }
    if (trimmed.startsWith("#") || (current && trimmed === "")) continue;
    if (!current && trimmed === "") continue;

    const body = raw.trimEnd();
    const continues = body.endsWith(escape);
    const content = continues ? body.slice(0, -escape.length) : raw;
    current ??= { text: "", offsets: [] };
    for (let i = 0; i < content.length; i++) {
      current.text += content[i];
      current.offsets.push(lineStart + i);
    }
    if (continues) continue;
    lines.push(current);
    for (const m of current.text.matchAll(HEREDOC)) heredocs.push({ strip: m[1] === "-", word: m[3]! });
    current = undefined;
  }
  if (current) lines.push(current);
  return lines;
}

function tokens(line: string): Token[] {
  return [...line.matchAll(/\S+/g)].map((m) => ({ value: m[0], from: m.index, to: m.index + m[0].length }));
}

/**
 * Finds image references in a Containerfile/Dockerfile: `FROM [--platform=…] image [AS name]`,
 * `COPY|ADD --from=image` and the default of an `ARG` a `FROM` names whole (`FROM ${BASE}`). Stage names
 * and `scratch` are not images; other references built from `ARG`s are reported as variables, with the
 * ARG's default named in the message.
 */
export function extractDockerfile(file: string, text: string): Extraction {
  const starts = lineStarts(text);
  const refs: FoundRef[] = [];
  const problems: Extraction["problems"] = [];
  const stages = new Set<string>();
  const argDefaults = new Map<string, { value: string; line: LogicalLine; from: number; to: number }>();
  const argsPinned = new Set<LogicalLine>();

  const add = (line: LogicalLine, from: number, to: number, source: RefSource) => {
    const value = line.text.slice(from, to);
    const start = line.offsets[from]!;
    const end = line.offsets[to - 1]! + 1;
    const where = locate(starts, start);
    if (end - start !== to - from) {
      problems.push({
        file,
        line: where.line,
        message: `reference '${value}' is split across lines; not rewritten`,
      });
      return;
    }
    const variable = findVariable(value);
    const ref: FoundRef = { file, ...where, kind: "image", source, text: value, span: { start, end } };
    if (variable) {
      const name = variable.replace(/^\$\{?|\}$/g, "").replace(/:-.*$/, "");
      const def = argDefaults.get(name)?.value;
      ref.variable = def === undefined ? variable : `${variable} (ARG default '${def}')`;
    }
    refs.push(ref);
  };

  for (const line of logicalLines(text)) {
    const toks = tokens(line.text);
    const instruction = toks[0]?.value.toUpperCase();
    const args = toks.slice(1);
    if (instruction === "ARG") {
      for (const a of args) {
        const eq = a.value.indexOf("=");
        if (eq <= 0) continue;
        const raw = a.value.slice(eq + 1);
        const quoted = raw.length >= 2 && /^(["']).*\1$/.test(raw) ? 1 : 0;
        const from = a.from + eq + 1 + quoted;
        const to = a.to - quoted;
        argDefaults.set(a.value.slice(0, eq), { value: line.text.slice(from, to), line, from, to });
      }
    } else if (instruction === "FROM") {
      const positional = args.filter((a) => !a.value.startsWith("--"));
      const image = positional[0];
      if (!image) {
        const where = locate(starts, line.offsets[0]!);
        problems.push({ file, line: where.line, message: "FROM without an image" });
        continue;
      }
      const as = positional[1]?.value.toUpperCase() === "AS" ? positional[2]?.value : undefined;
      // `FROM $BASE` with `ARG BASE=image:tag`: the reference is the ARG's default, pinned and updated in the
      // ARG line (as Renovate's dockerfile manager does); a variable inside a longer reference stays a variable.
      const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(image.value);
      const arg = whole ? argDefaults.get((whole[1] ?? whole[2])!) : undefined;
      const value = arg?.value ?? image.value;
      const lower = value.toLowerCase();
      if (lower === "scratch" || stages.has(lower) || value === "") {
        // not an image
      } else if (arg) {
        if (!argsPinned.has(arg.line)) add(arg.line, arg.from, arg.to, "dockerfile-arg");
        argsPinned.add(arg.line);
      } else add(line, image.from, image.to, "dockerfile-from");
      if (as) stages.add(as.toLowerCase());
    } else if (instruction === "COPY" || instruction === "ADD") {
      for (const a of args) {
        if (!a.value.startsWith("--")) break;
        if (!a.value.toLowerCase().startsWith("--from=")) continue;
        const from = a.from + "--from=".length;
        const value = line.text.slice(from, a.to);
        if (/^\d+$/.test(value) || stages.has(value.toLowerCase()) || value === "") continue;
        add(line, from, a.to, "dockerfile-copy-from");
      }
    }
  }
  // An ARG's reference is found at the FROM that names it, after the references between the two.
  refs.sort((a, b) => a.span.start - b.span.start);
  return { refs, problems };
}
