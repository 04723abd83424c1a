import { readFile } from "node:fs/promises";
import { InputError, type Logger } from "@frostyard/kit";
import {
  jwtClaims,
  type AttestationSigner,
  type AttestationVerifier,
  keylessPolicy,
  tokenSignerIdentity,
  type ImageSigner,
  type SignatureVerifier,
  type SignerIdentity,
} from "@frostyard/cosign";
import { fetchActionsIdToken, keylessSigner, keylessVerifier } from "@frostyard/cosign/keyless";
import { keylessAttestationSigner, keylessAttestationVerifier } from "@frostyard/cosign/attest-keyless";
import { getTrustedRoot } from "@sigstore/tuf";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import type { CosignSignInputs } from "./inputs";

// Loaded only for keyless signing (signer.ts imports this module dynamically, once): sigstore-js and TUF
// are most of the bundle, and key-based runs should not pay their start-up time.

/** The trust root keyless signatures are verified against: a `trusted-root` file, or sigstore's public-good root via TUF. */
export async function loadTrustedRoot(path: string | undefined, logger: Logger): Promise<unknown> {
  if (path === undefined) {
    logger.info("trust root: sigstore public-good (TUF)");
    return TrustedRoot.toJSON(await getTrustedRoot());
  }
  try {
    const root = JSON.parse(await readFile(path, "utf8")) as unknown;
    logger.info(`trust root: ${path}`);
    return root;
  } catch (error) {
    throw new InputError(
      "trusted-root",
      `${path} cannot be read as JSON (${(error as Error).message})`,
      "a sigstore trusted_root.json",
    );
  }
}

/** Keyless signing as resolved from the inputs and the job's OIDC token, before anything is signed. */
export interface KeylessResolution {
  /** Who signs: the identity Fulcio certifies for this token. */
  identity: SignerIdentity;
  /** The identity the inputs expect (or the workflow's own), checked on what the registry holds. */
  verifier: SignatureVerifier;
  /** Signs in-process: one Fulcio certificate for the run, each signature logged in Rekor. */
  nativeSigner(): Promise<ImageSigner>;
  /** Attests in-process with a certificate of its own (as a separate `cosign attest` would); same policy. */
  nativeAttester(): Promise<{ signer: AttestationSigner; verifier: AttestationVerifier }>;
}

/**
 * Keyless: the job's OIDC token (audience sigstore), the identity it signs as, and the verification
 * policy from `certificate-identity`/`certificate-identity-regexp`/`certificate-oidc-issuer`.
 */
export async function resolveKeyless(
  inputs: CosignSignInputs,
  logger: Logger,
  env: Record<string, string | undefined>,
): Promise<KeylessResolution> {
  const idToken = await fetchActionsIdToken(env);
  logger.setSecret(idToken);
  const claims = jwtClaims(idToken);
  const policy = keylessPolicy(
    {
      ...(inputs.certificateIdentity !== undefined
        ? { certificateIdentity: inputs.certificateIdentity }
        : {}),
      ...(inputs.certificateIdentityRegexp !== undefined
        ? { certificateIdentityRegexp: inputs.certificateIdentityRegexp }
        : {}),
      issuer: inputs.certificateOidcIssuer,
    },
    claims,
  );
  const trustedRoot = await loadTrustedRoot(inputs.trustedRoot, logger);
  const verifier = keylessVerifier(trustedRoot, policy);
  logger.info(`keyless: Fulcio ${inputs.fulcioUrl}, Rekor ${inputs.rekorUrl}`);
  return {
    identity: tokenSignerIdentity(claims),
    verifier,
    nativeSigner: () =>
      keylessSigner({ idToken, fulcioUrl: inputs.fulcioUrl, rekorUrl: inputs.rekorUrl, verifier }),
    nativeAttester: async () => ({
      signer: await keylessAttestationSigner({
        idToken,
        fulcioUrl: inputs.fulcioUrl,
        rekorUrl: inputs.rekorUrl,
      }),
      verifier: keylessAttestationVerifier(trustedRoot, policy),
    }),
  };
}
