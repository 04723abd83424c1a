import type { Annotation as KitAnnotation } from "@frostyard/kit";

/** `::name key=value,…::message`, as a step prints it on stdout or stderr. */
export interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  message: string;
}

/** The commands the runner knows; any other `::x::` line is ordinary output, as on the runner. */
const KNOWN_COMMANDS = new Set([
  "add-mask",
  "add-matcher",
  "add-path",
  "debug",
  "echo",
  "endgroup",
  "error",
  "group",
  "notice",
  "remove-matcher",
  "save-state",
  "set-env",
  "set-output",
  "stop-commands",
  "warning",
]);

function unescapeData(text: string): string {
  return text.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}

function unescapeProperty(text: string): string {
  return text
    .replace(/%0D/g, "\r")
    .replace(/%0A/g, "\n")
    .replace(/%3A/g, ":")
    .replace(/%2C/g, ",")
    .replace(/%25/g, "%");
}

/**
 * Parses one output line as the runner does (ActionCommand.TryParseV2): leading spaces ignored, the
 * command name up to the first space, `key=value` properties split on `,`, escaped data after the
 * second `::`. Undefined for a line that is not a known command.
 */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const text = line.trimStart();
  if (!text.startsWith("::")) return undefined;
  const end = text.indexOf("::", 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(" ");
  const name = space < 0 ? info : info.slice(0, space);
  if (!KNOWN_COMMANDS.has(name)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info
      .slice(space + 1)
      .trim()
      .split(",")) {
      const equals = pair.indexOf("=");
      if (equals <= 0 || equals === pair.length - 1) continue;
      properties[pair.slice(0, equals)] = unescapeProperty(pair.slice(equals + 1));
    }
  }
  return { name, properties, message: unescapeData(text.slice(end + 2)) };
}

export type { AnnotationLevel } from "@frostyard/kit";

/** An annotation as actions emit it (kit's), as the runner would show it on the run page: `step` says which step made it. */
export interface Annotation extends KitAnnotation {
  step: "runner" | "main" | "post";
  endColumn?: number;
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

export function toAnnotation(
  command: WorkflowCommand,
  step: Annotation["step"],
  mask: (text: string) => string = (t) => t,
): Annotation | undefined {
  if (command.name !== "error" && command.name !== "warning" && command.name !== "notice") return undefined;
  const p = command.properties;
  const annotation: Annotation = { level: command.name, message: mask(command.message), step };
  if (p.title !== undefined) annotation.title = mask(p.title);
  if (p.file !== undefined) annotation.file = p.file;
  const numbers = { line: toNumber(p.line), endLine: toNumber(p.endLine), col: toNumber(p.col) };
  if (numbers.line !== undefined) annotation.line = numbers.line;
  if (numbers.endLine !== undefined) annotation.endLine = numbers.endLine;
  if (numbers.col !== undefined) annotation.col = numbers.col;
  const endColumn = toNumber(p.endColumn);
  if (endColumn !== undefined) annotation.endColumn = endColumn;
  return annotation;
}

/** "file:line:col" for an annotation that has a location, else "". */
export function annotationLocation(a: Annotation): string {
  if (!a.file) return "";
  return [a.file, a.line, a.line !== undefined ? a.col : undefined].filter((x) => x !== undefined).join(":");
}

/**
 * Turns a step's output into what the runner shows, line by line: workflow commands become annotations,
 * groups and log lines; `add-mask` values are replaced by `***` in every later line; `stop-commands`
 * suspends command processing until its token comes back. No I/O: the caller feeds lines and prints
 * what comes back.
 */
export class StepOutputProcessor {
  readonly annotations: Annotation[] = [];
  /** Shared between the steps of a run: a secret masked by main stays masked in post, as on the runner. */
  readonly masks: string[];
  private readonly showDebug: boolean;
  private stopToken: string | undefined;

  constructor(
    private readonly step: Annotation["step"],
    options: { masks?: string[]; showDebug?: boolean } = {},
  ) {
    this.masks = options.masks ?? [];
    this.showDebug = options.showDebug ?? false;
  }

  /** Registers a secret; a multi-line secret is masked line by line, since output is matched per line. */
  addMask(value: string): void {
    for (const part of value.split(/\r?\n/)) {
      if (part !== "" && !this.masks.includes(part)) this.masks.push(part);
    }
    // Longest first, so a secret containing a shorter one is masked whole.
    this.masks.sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.masks) masked = masked.split(secret).join("***");
    return masked;
  }

  /** Returns the line to display, or undefined when the runner would show nothing for it. */
  push(line: string): string | undefined {
    if (this.stopToken !== undefined) {
      if (line.trim() === `::${this.stopToken}::`) {
        this.stopToken = undefined;
        return undefined;
      }
      return this.mask(line);
    }
    const command = parseWorkflowCommand(line);
    if (!command) return this.mask(line);
    switch (command.name) {
      case "add-mask":
        this.addMask(command.message);
        return undefined;
      case "stop-commands":
        this.stopToken = command.message;
        return undefined;
      case "group":
        return `▶ ${this.mask(command.message)}`;
      case "debug":
        return this.showDebug ? `debug: ${this.mask(command.message)}` : undefined;
      case "error":
      case "warning":
      case "notice": {
        const annotation = toAnnotation(command, this.step, (t) => this.mask(t));
        if (!annotation) return undefined;
        this.annotations.push(annotation);
        const where = annotationLocation(annotation);
        return `${annotation.level}: ${annotation.message}${where ? ` (${where})` : ""}`;
      }
      default:
        // endgroup, echo, matchers and the retired set-output/save-state/set-env/add-path print nothing.
        return undefined;
    }
  }
}
