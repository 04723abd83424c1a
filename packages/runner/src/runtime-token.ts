import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * ACTIONS_RUNTIME_TOKEN as the runner hands it to a job: a JWT whose `scp` claim names the workflow
 * run and job ("Actions.Results:<run>:<job>"), which @actions/artifact reads to address its artifacts.
 * GitHub signs it with its own key; the local results service signs (and checks) it with a secret of
 * its own (HS256), so only the run it was made for gets in.
 */
export interface RunIds {
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

function signature(unsigned: string, secret: Buffer): Buffer {
  return createHmac("sha256", secret).update(unsigned).digest();
}

export function makeRuntimeToken(ids: RunIds, secret: Buffer, now: Date = new Date()): string {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = b64url(
    JSON.stringify({
      scp: `Actions.GenericRead:${ids.workflowRunBackendId} Actions.Results:${ids.workflowRunBackendId}:${ids.workflowJobRunBackendId}`,
      iss: "frostyard-local-results",
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + 6 * 3600,
    }),
  );
  const unsigned = `${header}.${claims}`;
  return `${unsigned}.${b64url(signature(unsigned, secret))}`;
}

export class RuntimeTokenError extends Error {
  constructor(problem: string) {
    super(`runtime token ${problem}`);
    this.name = "RuntimeTokenError";
  }
}

/** The run and job a token was made for; throws RuntimeTokenError when it is not one of ours or expired. */
export function verifyRuntimeToken(token: string, secret: Buffer, now: Date = new Date()): RunIds {
  const parts = token.split(".");
  if (parts.length !== 3) throw new RuntimeTokenError("is not a JWT");
  const [header, claims, sig] = parts as [string, string, string];
  const expected = signature(`${header}.${claims}`, secret);
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new RuntimeTokenError("has a bad signature");
  }
  let parsed: { scp?: unknown; exp?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as typeof parsed;
  } catch {
    throw new RuntimeTokenError("has unreadable claims");
  }
  if (typeof parsed.exp !== "number" || parsed.exp * 1000 < now.getTime()) {
    throw new RuntimeTokenError("has expired");
  }
  const scope = String(parsed.scp ?? "")
    .split(" ")
    .map((s) => s.split(":"))
    .find((s) => s[0] === "Actions.Results" && s.length === 3);
  if (!scope) throw new RuntimeTokenError("has no Actions.Results scope");
  return { workflowRunBackendId: scope[1] ?? "", workflowJobRunBackendId: scope[2] ?? "" };
}
