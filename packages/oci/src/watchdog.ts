/** A request that stalled or ran past its deadline. `ETIMEDOUT`, so the retry policy treats it as transient. */
export class RequestTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(message: string) {
    super(message);
    this.name = "RequestTimeoutError";
  }
}

/** The deadline a transfer of `bytes` gets: the base timeout plus the time the slowest accepted rate needs. */
export function transferDeadlineMs(baseMs: number, bytes: number, minBytesPerSecond: number): number {
  return baseMs + Math.ceil((bytes * 1000) / minBytesPerSecond);
}

/**
 * Aborts one HTTP exchange when no byte has moved for `idleMs` (a stalled body, or a server that never
 * answers) or when it runs past its deadline. `touch()` on every chunk sent or received; `done()` always.
 */
export class Watchdog {
  private readonly controller = new AbortController();
  private idle: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly what: string,
    private readonly idleMs: number,
    deadlineMs: number,
  ) {
    this.touch();
    this.extend(deadlineMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(
      () => this.abort(`${this.what}: no bytes moved for ${this.idleMs} ms; the connection stalled`),
      this.idleMs,
    );
  }

  /** A new deadline, counted from now (once the response says how long its body is). */
  extend(deadlineMs: number): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(
      () => this.abort(`${this.what}: not done within ${deadlineMs} ms`),
      deadlineMs,
    );
  }

  done(): void {
    clearTimeout(this.idle);
    clearTimeout(this.deadline);
  }

  private abort(message: string): void {
    this.done();
    this.controller.abort(new RequestTimeoutError(message));
  }
}
