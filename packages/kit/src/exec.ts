import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Logger } from "./log";
import { redact, secretFragments } from "./secrets";

export interface ExecOptions {
  /** Where lines go when no listener is given, and where the command line is echoed. */
  logger: Logger;
  cwd?: string;
  /** The child's whole environment, unless `extendEnv` is set. Without `env` the child inherits ours. */
  env?: Record<string, string | undefined>;
  /** Lay `env` over our own environment instead of replacing it. */
  extendEnv?: boolean;
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Replaced by `***` in every line handed to a listener, in the echoed command line and in errors. */
  secrets?: readonly (string | undefined)[];
  /** Resolve with the exit code instead of rejecting on a non-zero exit or a signal. */
  ignoreReturnCode?: boolean;
  /** Default: logger.info (logger.debug when `captureStdout` is set). */
  onStdoutLine?: (line: string) => void;
  /** Default: logger.info. */
  onStderrLine?: (line: string) => void;
  /** How many of the last stderr lines to keep for errors; default 20. */
  stderrTailLines?: number;
  /** Keep stdout and return it, for short output such as `--version` or `--json summary`. */
  captureStdout?: boolean;
  /** Bound on captured stdout; default 16 MiB. Passing it is an error: capture is for short output. */
  maxCapturedStdoutBytes?: number;
  /** Echo `[command]<command line>` to logger.info first, as @actions/exec does; default true. */
  echoCommand?: boolean;
}

export interface ExecResult {
  /** The exit code; with `ignoreReturnCode` and a signal, 128 + the signal number, as shells report it. */
  exitCode: number;
  signal?: NodeJS.Signals;
  /** Captured stdout ("" unless `captureStdout`). Not redacted: it is data for the caller, not a log line. */
  stdout: string;
  /** The last stderr lines, redacted. */
  stderrTail: string[];
}

export interface ExecErrorInit {
  command: string;
  message: string;
  exitCode?: number;
  signal?: NodeJS.Signals;
  stderrTail?: string[];
  cause?: unknown;
}

/** A command that could not start, exited non-zero, died by a signal or overflowed captured stdout. */
export class ExecError extends Error {
  readonly command: string;
  readonly exitCode?: number;
  readonly signal?: NodeJS.Signals;
  readonly stderrTail: string[];

  constructor(init: ExecErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ExecError";
    this.command = init.command;
    if (init.exitCode !== undefined) this.exitCode = init.exitCode;
    if (init.signal !== undefined) this.signal = init.signal;
    this.stderrTail = init.stderrTail ?? [];
  }
}

/**
 * A line longer than this is handed on in pieces: a tool that writes megabytes without a newline must not
 * make us buffer all of it.
 */
const MAX_LINE_CHARS = 64 * 1024;

/** Splits a byte stream into lines without ever holding more than one (bounded) partial line. */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.feed(this.decoder.write(chunk));
  }

  /** Emits what is left (a last line without a newline). */
  end(): void {
    this.feed(this.decoder.end());
    if (this.partial !== "") this.emit(this.partial);
    this.partial = "";
  }

  private feed(text: string): void {
    let start = 0;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", start)) {
      const line = this.partial + text.slice(start, newline);
      this.partial = "";
      this.emit(line.endsWith("\r") ? line.slice(0, -1) : line);
      start = newline + 1;
    }
    this.partial += text.slice(start);
    while (this.partial.length > MAX_LINE_CHARS) {
      this.emit(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  private emit(line: string): void {
    this.onLine(line);
  }
}

/** Shell-like rendering of a command line for logs: arguments with spaces or quotes are single-quoted. */
export function formatCommandLine(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

/** The message for a finished command: what ended it, then the last stderr lines. */
export function exitMessage(
  command: string,
  exitCode: number | undefined,
  signal: NodeJS.Signals | undefined,
  stderrTail: readonly string[],
): string {
  const ended = signal
    ? `${command} was killed by signal ${signal}`
    : `${command} exited with code ${exitCode}`;
  return stderrTail.length > 0 ? `${ended}:\n${stderrTail.join("\n")}` : `${ended} (no output on stderr)`;
}

/** The message for a command that never started. */
export function spawnFailureMessage(command: string, error: NodeJS.ErrnoException): string {
  const isPath = command.includes("/");
  switch (error.code) {
    case "ENOENT":
      return isPath ? `'${command}' does not exist` : `'${command}' was not found on PATH`;
    case "EACCES":
      return `'${command}' is not executable (permission denied)`;
    default:
      return `'${command}' could not be started: ${error.message}`;
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};

/**
 * Runs a command with its output streamed line by line, never buffered whole: only a bounded stderr tail
 * (for the error message) and, on request, a bounded stdout are kept. Rejects with ExecError on a spawn
 * failure, a non-zero exit or a signal (the last two unless `ignoreReturnCode`).
 */
export function execStreaming(
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const { logger } = options;
  const secrets = secretFragments(options.secrets ?? []);
  const clean = secrets.length === 0 ? (line: string) => line : (line: string) => redact(line, secrets);
  const tailSize = options.stderrTailLines ?? 20;
  const maxCaptured = options.maxCapturedStdoutBytes ?? 16 * 1024 * 1024;
  const onStdoutLine =
    options.onStdoutLine ??
    (options.captureStdout ? (line: string) => logger.debug(line) : (line: string) => logger.info(line));
  const onStderrLine = options.onStderrLine ?? ((line: string) => logger.info(line));

  if (options.echoCommand ?? true) logger.info(`[command]${clean(formatCommandLine(command, args))}`);

  const env =
    options.env === undefined
      ? process.env
      : options.extendEnv
        ? { ...process.env, ...options.env }
        : options.env;

  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });

    const stderrTail: string[] = [];
    const captured: Buffer[] = [];
    let capturedBytes = 0;
    let overflowed = false;
    let settled = false;

    const stdoutLines = new LineSplitter((line) => onStdoutLine(clean(line)));
    const stderrLines = new LineSplitter((line) => {
      const shown = clean(line);
      stderrTail.push(shown);
      if (stderrTail.length > tailSize) stderrTail.shift();
      onStderrLine(shown);
    });

    pump(child.stdout, (chunk) => {
      if (options.captureStdout && !overflowed) {
        capturedBytes += chunk.length;
        if (capturedBytes > maxCaptured) {
          overflowed = true;
          captured.length = 0;
        } else {
          captured.push(chunk);
        }
      }
      stdoutLines.push(chunk);
    });
    pump(child.stderr, (chunk) => stderrLines.push(chunk));

    if (child.stdin) {
      // A child that exits without reading its input closes the pipe under us: its exit code says what happened.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }

    child.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      reject(new ExecError({ command, message: clean(spawnFailureMessage(command, error)), cause: error }));
    });

    child.on("close", (code, signal) => {
      if (settled) return;
      settled = true;
      stdoutLines.end();
      stderrLines.end();
      const exitCode = code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0);
      const ended = { command, stderrTail, ...(signal ? { signal } : { exitCode }) };
      if (overflowed) {
        const message = `${command} wrote more than ${maxCaptured} bytes to stdout; captureStdout is meant for short output`;
        reject(new ExecError({ ...ended, message }));
        return;
      }
      if ((code !== 0 || signal) && !options.ignoreReturnCode) {
        reject(
          new ExecError({
            ...ended,
            message: exitMessage(command, code ?? undefined, signal ?? undefined, stderrTail),
          }),
        );
        return;
      }
      resolve({
        exitCode,
        ...(signal ? { signal } : {}),
        stdout: Buffer.concat(captured).toString("utf8"),
        stderrTail,
      });
    });
  });
}

function pump(stream: Readable | null, onChunk: (chunk: Buffer) => void): void {
  stream?.on("data", (chunk: Buffer) => onChunk(chunk));
}
