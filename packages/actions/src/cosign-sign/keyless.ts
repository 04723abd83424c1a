import { readFile } from "node:fs/promises";
import { InputError, type Logger } from "@frostyard/kit";
import type { ImageSigner } from "@frostyard/cosign";
import {
  expectedIdentity,
  fetchActionsIdToken,
  jwtClaims,
  keylessSigner as makeKeylessSigner,
  keylessVerifier,
} from "@frostyard/cosign/keyless";
import { getTrustedRoot } from "@sigstore/tuf";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import type { CosignSignInputs } from "./inputs";

// cosign-cli's keyless path takes these from here too: one dynamic import, so one lazy chunk.
export { expectedIdentity, fetchActionsIdToken, jwtClaims, keylessVerifier };

// Loaded only for keyless signing (main and cosign-cli import this module dynamically): sigstore-js and
// TUF are most of the bundle, and key-based runs should not pay their start-up time.

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

/**
 * Keyless signing: the job's OIDC token (audience sigstore) → Fulcio → Rekor. The signatures are then
 * verified for the identity the inputs name, or by default the workflow's own identity from the token.
 */
export async function keylessSigner(inputs: CosignSignInputs, logger: Logger): Promise<ImageSigner> {
  const idToken = await fetchActionsIdToken(process.env);
  logger.setSecret(idToken);
  const claims = jwtClaims(idToken);
  const identity =
    inputs.certificateIdentityRegexp === undefined
      ? (inputs.certificateIdentity ?? expectedIdentity(claims))
      : undefined;
  const trustedRoot = await loadTrustedRoot(inputs.trustedRoot, logger);
  const verifier = keylessVerifier(trustedRoot, {
    ...(identity !== undefined ? { identity } : {}),
    ...(inputs.certificateIdentityRegexp !== undefined
      ? { identityRegexp: inputs.certificateIdentityRegexp }
      : {}),
    issuer: inputs.certificateOidcIssuer,
  });
  logger.info(`keyless: Fulcio ${inputs.fulcioUrl}, Rekor ${inputs.rekorUrl}`);
  return makeKeylessSigner({
    idToken,
    fulcioUrl: inputs.fulcioUrl,
    rekorUrl: inputs.rekorUrl,
    verifier,
  });
}
