import { markdownTable, formatDuration } from "./summary";

export interface Stopwatch {
  /** Milliseconds since the stopwatch was made. */
  elapsedMs(): number;
}

/** `now` defaults to performance.now: monotonic, so a clock change on the runner cannot make a step negative. */
export function stopwatch(now: () => number = () => performance.now()): Stopwatch {
  const start = now();
  return { elapsedMs: () => now() - start };
}

export interface Timing {
  name: string;
  durationMs: number;
  /** False when the step threw. */
  ok: boolean;
}

/** Runs `fn` and returns its value with how long it took. */
export async function timed<T>(
  name: string,
  fn: () => Promise<T>,
  now?: () => number,
): Promise<{ value: T; timing: Timing }> {
  const watch = stopwatch(now);
  const value = await fn();
  return { value, timing: { name, durationMs: watch.elapsedMs(), ok: true } };
}

/** Collects the timing of each step, failed ones included, for the job summary. */
export class Timings {
  readonly entries: Timing[] = [];

  constructor(private readonly now?: () => number) {}

  /** Runs `fn`, records its duration (also when it throws, marked failed) and returns or rethrows its outcome. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const watch = stopwatch(this.now);
    try {
      const value = await fn();
      this.entries.push({ name, durationMs: watch.elapsedMs(), ok: true });
      return value;
    } catch (error) {
      this.entries.push({ name, durationMs: watch.elapsedMs(), ok: false });
      throw error;
    }
  }

  totalMs(): number {
    return this.entries.reduce((sum, entry) => sum + entry.durationMs, 0);
  }

  /** A "step | duration" table, failed steps marked. */
  toMarkdown(): string {
    return markdownTable(
      ["step", "duration"],
      this.entries.map((e) => [e.ok ? e.name : `${e.name} (failed)`, formatDuration(e.durationMs)]),
    );
  }
}
