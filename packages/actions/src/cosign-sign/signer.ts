import type { Logger } from "@frostyard/kit";
import {
  describeSigningKey,
  keyAttestationSigner,
  keyAttestationVerifier,
  keySigner,
  type AttestationSigner,
  type AttestationVerifier,
  loadSigningKey,
  type ImageSigner,
  type SignatureVerifier,
  type SignerIdentity,
} from "@frostyard/cosign";
import type { CosignSignInputs } from "./inputs";

/** What the cosign CLI is given to sign as the same signer: by environment only, never argv. */
export interface CosignCliCredentials {
  key?: { pem: string; password: string };
  /** Keyless on Actions: cosign's GitHub provider fetches the OIDC token itself with these. */
  actionsIdToken?: { url: string; token: string };
}

export interface ResolvedSigner {
  /** Names who signs and verifies what the registry holds; with the native engine it also signs. */
  signer: ImageSigner;
  /** For `engine: cosign`. */
  cli: CosignCliCredentials;
  /** Signs and verifies attestations in-process (any engine): the same key or keyless identity. */
  attester?: { signer: AttestationSigner; verifier: AttestationVerifier };
}

/** A signer for which the cosign CLI makes the signatures: it only names the identity and verifies. */
export function cliSigner(identity: SignerIdentity, verifier: SignatureVerifier): ImageSigner {
  const unused = async (): Promise<never> => {
    throw new Error("with engine cosign, the cosign CLI signs");
  };
  return { identity: () => identity, legacy: unused, bundle: unused, verifier: () => verifier };
}

/**
 * Who signs, resolved once from the inputs: a key (decrypted here, so a wrong password fails before
 * anything is pushed, whichever engine pushes), or keyless with the job's OIDC identity. The engine only
 * decides who pushes: in-process, or the cosign CLI with the credentials returned here.
 */
export async function resolveSigner(
  inputs: CosignSignInputs,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<ResolvedSigner> {
  if (inputs.key !== undefined) {
    const signing = await loadSigningKey({
      key: inputs.key,
      password: inputs.password,
      env,
      inputs: { key: "key", password: "password" },
      logger,
    });
    logger.info(`signing key: ${describeSigningKey(signing)}`);
    return {
      signer: keySigner(signing.key),
      cli: { key: { pem: signing.pem, password: signing.password } },
      attester: {
        signer: keyAttestationSigner(signing.key.privateKey),
        verifier: keyAttestationVerifier(signing.key.publicKey),
      },
    };
  }
  const keyless = await (await import("./keyless")).resolveKeyless(inputs, logger, env);
  if (inputs.engine === "native") {
    // A certificate for attestations only when there are any: a plain sign run asks Fulcio once.
    const attester = inputs.attest ? await keyless.nativeAttester() : undefined;
    return { signer: await keyless.nativeSigner(), cli: {}, ...(attester ? { attester } : {}) };
  }
  return {
    signer: cliSigner(keyless.identity, keyless.verifier),
    cli: {
      actionsIdToken: {
        url: env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "",
        token: env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "",
      },
    },
  };
}
