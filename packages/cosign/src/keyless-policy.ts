import type { SignerIdentity } from "./sign-images";

/** Which certificates a keyless verification accepts: the issuer, and an exact identity or a regexp. */
export interface KeylessPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer: string;
}

/** The claims of a JWT, not verified (Fulcio verifies the token; we only read who we are). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) throw new Error("the OIDC token is not a JWT");
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new Error("the OIDC token's claims are not JSON");
  }
}

/**
 * The certificate identity Fulcio gives an Actions token: the workflow that ran, as
 * `https://github.com/<job_workflow_ref>`; for other issuers the email or subject claim.
 */
export function expectedIdentity(claims: Record<string, unknown>): string {
  if (typeof claims.job_workflow_ref === "string") return `https://github.com/${claims.job_workflow_ref}`;
  if (typeof claims.email === "string") return claims.email;
  if (typeof claims.sub === "string") return claims.sub;
  throw new Error("the OIDC token has no job_workflow_ref, email or sub claim to name the signer");
}

/**
 * Who signs with this token: the identity Fulcio will certify and the token's issuer. What the
 * verification expects (a `certificate-identity` or a regexp) never changes who signed.
 */
export function tokenSignerIdentity(claims: Record<string, unknown>): SignerIdentity {
  return { kind: "keyless", identity: expectedIdentity(claims), issuer: String(claims.iss ?? "") };
}

export interface KeylessPolicyRequest {
  /** `--certificate-identity`: the exact identity. */
  certificateIdentity?: string;
  /** `--certificate-identity-regexp`: a regular expression the identity must match (unanchored, like Go's MatchString). */
  certificateIdentityRegexp?: string;
  issuer: string;
}

/**
 * The policy a keyless signature is verified with, as `cosign verify` reads its flags: the regexp when one
 * is given (cosign checks `SubjectRegExp` before `Subject`), else the exact identity, else (our default,
 * where cosign would demand one) the workflow's own identity from the token.
 */
export function keylessPolicy(request: KeylessPolicyRequest, claims: Record<string, unknown>): KeylessPolicy {
  if (request.certificateIdentityRegexp !== undefined)
    return { identityRegexp: request.certificateIdentityRegexp, issuer: request.issuer };
  return { identity: request.certificateIdentity ?? expectedIdentity(claims), issuer: request.issuer };
}

/** Why a certificate's identity is not accepted by `policy`, or undefined when it is. */
export function certificateIdentityProblem(
  identity: string | undefined,
  policy: KeylessPolicy,
): string | undefined {
  if (identity === undefined) return "the certificate names no identity";
  if (policy.identityRegexp !== undefined) {
    return new RegExp(policy.identityRegexp).test(identity)
      ? undefined
      : `certificate identity ${identity} does not match ${policy.identityRegexp}`;
  }
  if (policy.identity !== undefined && identity !== policy.identity) {
    return `certificate identity ${identity} is not the expected ${policy.identity}`;
  }
  return undefined;
}
