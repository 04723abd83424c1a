/** A file/line position for an annotation; entries map it onto the runner's `::error file=…,line=…::`. */
export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

/**
 * What libraries log through. Entries in packages/actions back it with @actions/core; the CLI and tests
 * use `consoleLogger` or a recording logger. Libraries never import @actions/core themselves.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string, properties?: AnnotationProperties): void;
  error(message: string, properties?: AnnotationProperties): void;
  /** Optional so existing loggers stay valid; `emitAnnotations` falls back to `info` without it. */
  notice?(message: string, properties?: AnnotationProperties): void;
  /** Runs `fn` inside a collapsible log group. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Masks a value in every later log line. Call it before anything that could print the value. */
  setSecret(value: string): void;
}

export const consoleLogger: Logger = {
  debug: (m) => {
    if (process.env.RUNNER_DEBUG === "1") console.log(`debug: ${m}`);
  },
  info: (m) => console.log(m),
  warning: (m) => console.warn(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
  notice: (m) => console.log(`notice: ${m}`),
  group: async (name, fn) => {
    console.log(`▶ ${name}`);
    return fn();
  },
  setSecret: () => {},
};

/** A logger that keeps every line, for tests that assert what was logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(m),
    warning: (m, p) => lines.push(`warning: ${m}${p?.file ? ` (${p.file}:${p.startLine ?? ""})` : ""}`),
    error: (m, p) => lines.push(`error: ${m}${p?.file ? ` (${p.file}:${p.startLine ?? ""})` : ""}`),
    notice: (m, p) => lines.push(`notice: ${m}${p?.file ? ` (${p.file}:${p.startLine ?? ""})` : ""}`),
    group: async (name, fn) => {
      lines.push(`group: ${name}`);
      return fn();
    },
    setSecret: () => {},
  };
}
