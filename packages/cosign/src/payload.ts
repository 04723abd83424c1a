import { digestProblem } from "@frostyard/oci";
import { COSIGN_SIGNATURE_TYPE } from "./constants";
import { goJson } from "./go-json";

/** The fields of a simple-signing payload (containers-signature(5), as cosign writes it). */
export interface SimpleSigningPayload {
  /** `critical.identity.docker-reference`: cosign writes the repository without tag. */
  dockerReference: string;
  /** `critical.image.docker-manifest-digest`. */
  manifestDigest: string;
  /** `optional`: cosign's `-a key=value` annotations, or null when there are none. */
  annotations?: Record<string, unknown> | null;
}

/** A payload that is not a well-formed cosign container image signature payload. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(`signature payload: ${message}`);
    this.name = "PayloadError";
  }
}

/**
 * The payload bytes exactly as cosign signs them: sigstore's SimpleContainerImage marshalled by Go
 * (struct order critical{identity,image,type}, then optional; `optional` null without annotations,
 * otherwise a map with sorted keys).
 */
export function simpleSigningPayload(payload: SimpleSigningPayload): Buffer {
  if (typeof payload.dockerReference !== "string" || payload.dockerReference === "") {
    throw new PayloadError("docker-reference is empty; expected the image repository, e.g. ghcr.io/acme/os");
  }
  const problem = digestProblem(payload.manifestDigest);
  if (problem) throw new PayloadError(`docker-manifest-digest: ${problem}`);
  const annotations = payload.annotations ?? null;
  if (annotations !== null && (typeof annotations !== "object" || Array.isArray(annotations))) {
    throw new PayloadError("optional annotations must be an object of key/value pairs");
  }
  const json =
    `{"critical":{"identity":{"docker-reference":${goJson(payload.dockerReference)}},` +
    `"image":{"docker-manifest-digest":${goJson(payload.manifestDigest)}},` +
    `"type":${goJson(COSIGN_SIGNATURE_TYPE)}},` +
    `"optional":${goJson(annotations)}}`;
  return Buffer.from(json, "utf8");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** containers/image's "paranoid" parsing: exactly these fields, no more, no fewer. */
function exactFields(value: unknown, where: string, fields: string[]): Record<string, unknown> {
  if (!isRecord(value)) throw new PayloadError(`${where} is not a JSON object`);
  const keys = Object.keys(value);
  const extra = keys.filter((k) => !fields.includes(k));
  const missing = fields.filter((k) => !keys.includes(k));
  if (extra.length > 0 || missing.length > 0) {
    const found = [
      missing.length > 0 ? `missing ${missing.map((k) => `"${k}"`).join(", ")}` : "",
      extra.length > 0 ? `unexpected ${extra.map((k) => `"${k}"`).join(", ")}` : "",
    ]
      .filter(Boolean)
      .join("; ");
    throw new PayloadError(`${where}: ${found}; expected exactly ${fields.map((k) => `"${k}"`).join(", ")}`);
  }
  return value;
}

/**
 * Parses and validates payload bytes as containers/image does before it trusts any field: exact field
 * sets, the cosign signature type, a valid digest, `optional` null or an object with a string `creator`
 * and an integer `timestamp` when present. Throws PayloadError naming the field.
 */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new PayloadError(`not JSON (${(error as Error).message})`);
  }
  const top = exactFields(json, "the payload", ["critical", "optional"]);
  const critical = exactFields(top.critical, "critical", ["type", "image", "identity"]);
  if (critical.type !== COSIGN_SIGNATURE_TYPE) {
    throw new PayloadError(
      `critical.type is ${JSON.stringify(critical.type)}; expected "${COSIGN_SIGNATURE_TYPE}"`,
    );
  }
  const image = exactFields(critical.image, "critical.image", ["docker-manifest-digest"]);
  const manifestDigest = image["docker-manifest-digest"];
  if (typeof manifestDigest !== "string") {
    throw new PayloadError("critical.image.docker-manifest-digest is not a string");
  }
  const problem = digestProblem(manifestDigest);
  if (problem) throw new PayloadError(`critical.image.docker-manifest-digest: ${problem}`);
  const identity = exactFields(critical.identity, "critical.identity", ["docker-reference"]);
  const dockerReference = identity["docker-reference"];
  if (typeof dockerReference !== "string" || dockerReference === "") {
    throw new PayloadError("critical.identity.docker-reference is not a non-empty string");
  }

  const optional = top.optional;
  if (optional !== null && !isRecord(optional)) {
    throw new PayloadError("optional is neither null nor a JSON object");
  }
  if (optional !== null) {
    if ("creator" in optional && typeof optional.creator !== "string") {
      throw new PayloadError("optional.creator is not a string");
    }
    if ("timestamp" in optional && !Number.isInteger(optional.timestamp)) {
      throw new PayloadError("optional.timestamp is not an integer");
    }
  }
  return { dockerReference, manifestDigest, annotations: optional };
}
