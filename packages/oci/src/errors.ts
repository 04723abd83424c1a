import { HttpStatusError, type HttpStatusErrorInit } from "@frostyard/kit";

/** Which part of an image reference was wrong. */
export type ReferencePart = "reference" | "registry" | "repository" | "tag" | "digest";

export const REFERENCE_GRAMMAR = "[registry[:port]/]repository[:tag][@sha256:<64 hex>]";

/** A malformed image reference: names the input, the part that is wrong and the accepted form. */
export class InvalidReferenceError extends Error {
  readonly reference: string;
  readonly part: ReferencePart;
  constructor(reference: string, part: ReferencePart, problem: string) {
    super(`invalid image reference ${JSON.stringify(reference)}: ${problem}; expected ${REFERENCE_GRAMMAR}`);
    this.name = "InvalidReferenceError";
    this.reference = reference;
    this.part = part;
  }
}

/** Content whose digest is not the one asked for or announced: never use it. */
export class DigestMismatchError extends Error {
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: content digest ${actual} does not match the expected ${expected}`);
    this.name = "DigestMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/** 401 after the auth flow: no credentials, or the registry refused them. Never retried. */
export class RegistryAuthError extends HttpStatusError {
  constructor(init: HttpStatusErrorInit) {
    super(init);
    this.name = "RegistryAuthError";
  }
}

/** 403: authenticated, but not allowed to do this. Never retried. */
export class RegistryDeniedError extends HttpStatusError {
  constructor(init: HttpStatusErrorInit) {
    super(init);
    this.name = "RegistryDeniedError";
  }
}

/** A manifest this client cannot use (schema 1, not JSON, missing fields). */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/** Which option of serveLayout was refused. */
export type LayoutRegistryOption = "host" | "repository" | "tag";

/**
 * serveLayout was given a host, repository or tag it cannot serve. Carries the option and the value so
 * an entry can name its own input; the message says what is accepted.
 */
export class LayoutRegistryError extends Error {
  readonly option: LayoutRegistryOption;
  readonly value: string;
  readonly accepted: string;
  constructor(option: LayoutRegistryOption, value: string, problem: string, accepted: string) {
    super(`layout registry ${option} ${JSON.stringify(value)}: ${problem}; expected ${accepted}`);
    this.name = "LayoutRegistryError";
    this.option = option;
    this.value = value;
    this.accepted = accepted;
  }
}

/** An error's message with the causes fetch hides behind "fetch failed" or "terminated". */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    // A cause whose text the message already carries (a RegistryRequestError's) adds nothing.
    if (parts.some((part) => part.includes(message))) break;
    if (message) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}

/**
 * A registry request that failed for good: names the request (method, repository, digest or tag) and
 * the attempts made; the last failure is the cause (its status, when it was an HTTP status, is kept).
 */
export class RegistryRequestError extends Error {
  readonly request: string;
  readonly attempts: number;
  readonly status?: number;
  constructor(request: string, attempts: number, cause: unknown) {
    super(
      `${request} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${describeError(cause)}`,
      {
        cause,
      },
    );
    this.name = "RegistryRequestError";
    this.request = request;
    this.attempts = attempts;
    if (cause instanceof HttpStatusError) this.status = cause.status;
  }
}
