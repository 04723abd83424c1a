import { describe, expect, test } from "vitest";
import {
  certificateIdentityProblem,
  keylessPolicy,
  tokenSignerIdentity,
  type KeylessPolicy,
  type KeylessPolicyRequest,
} from "@frostyard/cosign";

const ISSUER = "https://token.actions.githubusercontent.com";
const WORKFLOW = "acme/os/.github/workflows/build.yml@refs/heads/main";
const OURS = `https://github.com/${WORKFLOW}`;
const claims = { iss: ISSUER, job_workflow_ref: WORKFLOW, sub: "repo:acme/os:ref:refs/heads/main" };

/**
 * `cosign verify` takes --certificate-identity (the exact SAN) or --certificate-identity-regexp (Go's
 * regexp.MatchString, unanchored); with both, its validateCertIdentity switch tests SubjectRegExp first
 * and never looks at Subject. The action forbids giving both; the library follows cosign regardless.
 */
describe("keylessPolicy: what a keyless signature is verified against", () => {
  test.each<[string, Omit<KeylessPolicyRequest, "issuer">, KeylessPolicy]>([
    ["neither: the workflow's own identity, exactly", {}, { identity: OURS, issuer: ISSUER }],
    [
      "certificate-identity: that identity, exactly",
      { certificateIdentity: "https://github.com/acme/os/.github/workflows/release.yml@refs/tags/v1" },
      { identity: "https://github.com/acme/os/.github/workflows/release.yml@refs/tags/v1", issuer: ISSUER },
    ],
    [
      "certificate-identity-regexp: the regexp alone, not the workflow's identity",
      { certificateIdentityRegexp: "^https://github\\.com/acme/" },
      { identityRegexp: "^https://github\\.com/acme/", issuer: ISSUER },
    ],
    [
      "both: the regexp, as cosign checks it first",
      {
        certificateIdentity: "https://github.com/evil/x",
        certificateIdentityRegexp: "^https://github\\.com/acme/",
      },
      { identityRegexp: "^https://github\\.com/acme/", issuer: ISSUER },
    ],
  ])("%s", (_name, request, expected) => {
    expect(keylessPolicy({ ...request, issuer: ISSUER }, claims)).toEqual(expected);
  });

  test("a token with no identity claim cannot name the default identity", () => {
    expect(() => keylessPolicy({ issuer: ISSUER }, { iss: ISSUER })).toThrow("no job_workflow_ref");
  });
});

describe("certificateIdentityProblem: does a certificate's identity satisfy the policy", () => {
  test.each<[string, string | undefined, Omit<KeylessPolicy, "issuer">, string | undefined]>([
    ["the exact identity", OURS, { identity: OURS }, undefined],
    ["another identity", "https://github.com/evil/x", { identity: OURS }, "is not the expected"],
    [
      "a prefix of the identity is not it",
      "https://github.com/acme/os",
      { identity: OURS },
      "is not the expected",
    ],
    ["a matching regexp", OURS, { identityRegexp: "^https://github\\.com/acme/os/" }, undefined],
    [
      "an unanchored regexp matches inside (Go's MatchString)",
      OURS,
      { identityRegexp: "workflows/build" },
      undefined,
    ],
    [
      "a regexp that does not match",
      OURS,
      { identityRegexp: "^https://github\\.com/other/" },
      "does not match",
    ],
    [
      "both: the regexp decides, the exact identity is not looked at",
      OURS,
      { identity: "https://github.com/evil/x", identityRegexp: "^https://github\\.com/acme/" },
      undefined,
    ],
    [
      "both: a regexp that does not match refuses even the exact identity",
      OURS,
      { identity: OURS, identityRegexp: "^https://github\\.com/other/" },
      "does not match",
    ],
    ["no identity in the certificate", undefined, { identity: OURS }, "names no identity"],
  ])("%s", (_name, identity, policy, problem) => {
    const found = certificateIdentityProblem(identity, { ...policy, issuer: ISSUER });
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe("tokenSignerIdentity: who signs is the token's identity, whatever the verification expects", () => {
  test.each<[string, Record<string, unknown>, string]>([
    ["an Actions token: the workflow", claims, OURS],
    [
      "an email token",
      { iss: "https://accounts.example.com", email: "me@example.com", sub: "1" },
      "me@example.com",
    ],
    ["a subject only", { iss: "https://issuer.example", sub: "spiffe://x" }, "spiffe://x"],
  ])("%s", (_name, tokenClaims, identity) => {
    expect(tokenSignerIdentity(tokenClaims)).toEqual({
      kind: "keyless",
      identity,
      issuer: tokenClaims.iss,
    });
  });
});
