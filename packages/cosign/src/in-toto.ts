import { digestProblem, type RepositoryRef } from "@frostyard/oci";
import { goJson, goJsonString } from "./go-json";
import { cosignDockerReference } from "./identity";

/** The statement version `cosign attest` (v2) writes: in-toto-golang's `StatementInTotoV01`. */
export const IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";
/** `cosign attest --type custom`: the file's text wrapped as `{"Data": …, "Timestamp": …}`. */
export const COSIGN_CUSTOM_PREDICATE_TYPE = "https://cosign.sigstore.dev/attestation/v1";

/**
 * The `--type` names we attest with and their predicate types, as cosign's `options.PredicateTypeMap`
 * maps them. `json`: the predicate is the file parsed as JSON; `text`: the file's text as a string.
 * slsaprovenance, link and vuln are left out: cosign decodes those into Go structs, which reorders
 * and drops fields in ways only a byte-exact port of those structs would reproduce.
 */
export const PREDICATE_TYPES = {
  cyclonedx: { predicateType: "https://cyclonedx.org/bom", predicate: "json" },
  spdxjson: { predicateType: "https://spdx.dev/Document", predicate: "json" },
  spdx: { predicateType: "https://spdx.dev/Document", predicate: "text" },
  custom: { predicateType: COSIGN_CUSTOM_PREDICATE_TYPE, predicate: "custom" },
} as const;

export type PredicateKind = keyof typeof PREDICATE_TYPES;

/** How an attestation type is turned into a predicate: a named type, or (as cosign allows) a URI. */
export interface PredicateSpec {
  /** What the user wrote: `cyclonedx`, or a predicate type URI. */
  type: string;
  predicateType: string;
  predicate: "json" | "text" | "custom";
}

/**
 * A `--type` value as cosign's `ParsePredicateType` reads it: a known name, or an absolute URI used as
 * the predicate type itself (its predicate must then be a JSON object). Undefined for anything else.
 */
export function predicateSpec(type: string): PredicateSpec | undefined {
  if (Object.hasOwn(PREDICATE_TYPES, type)) {
    const known = PREDICATE_TYPES[type as PredicateKind];
    return { type, predicateType: known.predicateType, predicate: known.predicate };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[^\s/]+/i.test(type)) {
    return { type, predicateType: type, predicate: "json" };
  }
  return undefined;
}

/** A predicate file that cannot be used for its type (not JSON, or not an object for a URI type). */
export class PredicateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PredicateError";
  }
}

/**
 * The predicate as cosign writes it into the statement, rendered as Go's encoding/json would: JSON
 * predicates are decoded into `interface{}` and re-encoded (map keys sorted, `<>&` escaped), text ones
 * become a JSON string, custom ones `{"Data":"<text>","Timestamp":"<RFC 3339>"}` in struct order.
 */
export function renderPredicate(spec: PredicateSpec, file: Uint8Array, timestamp: Date): string {
  const text = Buffer.from(file).toString("utf8");
  if (spec.predicate === "text") return goJsonString(text);
  if (spec.predicate === "custom") {
    const stamp = timestamp.toISOString().replace(/\.\d{3}Z$/, "Z");
    return `{"Data":${goJsonString(text)},"Timestamp":${goJsonString(stamp)}}`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PredicateError(`is not JSON (${(error as Error).message})`);
  }
  // cosign decodes URI-typed predicates into map[string]interface{}: anything but an object fails there.
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  if (spec.predicateType === spec.type && !isObject) {
    throw new PredicateError("is JSON but not an object, which a predicate of a URI type must be");
  }
  return goJson(value);
}

export interface StatementRequest {
  spec: PredicateSpec;
  /** The predicate file's bytes. */
  file: Uint8Array;
  /** The image repository; the subject is named as cosign names it (`digest.Repository.String()`). */
  repository: string | RepositoryRef;
  /** The attested manifest digest (sha256, as cosign's `.att` tags require). */
  digest: string;
  /** Only `custom` statements carry a time. */
  timestamp?: Date;
}

/**
 * The in-toto Statement v0.1 `cosign attest` signs, byte for byte: in-toto-golang's StatementHeader
 * (`_type`, `predicateType`, `subject` with name and sha256 digest) followed by `predicate`.
 */
export function attestationStatement(request: StatementRequest): Buffer {
  const problem = digestProblem(request.digest);
  if (problem) throw new TypeError(`statement subject: ${problem}`);
  if (!request.digest.startsWith("sha256:")) {
    throw new TypeError(`statement subject: ${request.digest} is not sha256, which cosign attests`);
  }
  const subject = {
    name: cosignDockerReference(request.repository),
    hex: request.digest.slice("sha256:".length),
  };
  const predicate = renderPredicate(request.spec, request.file, request.timestamp ?? new Date());
  return Buffer.from(
    `{"_type":${goJsonString(IN_TOTO_STATEMENT_V01)},"predicateType":${goJsonString(request.spec.predicateType)},` +
      `"subject":[{"name":${goJsonString(subject.name)},"digest":{"sha256":${goJsonString(subject.hex)}}}],` +
      `"predicate":${predicate}}`,
  );
}

/** What a verifier reads back from a statement: its type, predicate type and subjects. */
export interface ParsedStatement {
  type: string;
  predicateType: string;
  subjects: { name?: string; digest: Record<string, string> }[];
  predicate: unknown;
}

/** Parses a statement's JSON, or throws PredicateError saying what is missing. */
export function parseStatement(bytes: Uint8Array): ParsedStatement {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new PredicateError(`the in-toto statement is not JSON (${(error as Error).message})`);
  }
  const record = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!record(value) || typeof value._type !== "string" || typeof value.predicateType !== "string") {
    throw new PredicateError("the in-toto statement has no _type or predicateType");
  }
  const subjects = (Array.isArray(value.subject) ? value.subject : []).flatMap((s: unknown) =>
    record(s) && record(s.digest)
      ? [
          {
            ...(typeof s.name === "string" ? { name: s.name } : {}),
            digest: Object.fromEntries(
              Object.entries(s.digest).filter((e): e is [string, string] => typeof e[1] === "string"),
            ),
          },
        ]
      : [],
  );
  return { type: value._type, predicateType: value.predicateType, subjects, predicate: value.predicate };
}
