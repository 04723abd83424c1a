import { randomBytes } from "node:crypto";
import { maskSecrets, type Logger } from "@frostyard/kit";
import { describeKeyOrigin, resolveKeySource, type KeyOrigin } from "./key-source";
import {
  generateCosignKeyPair,
  loadCosignPrivateKey,
  type CosignPrivateKey,
  type KeyInputNames,
} from "./keys";

export interface SigningKeyRequest {
  /** `cosign sign --key`'s forms: PEM content, a key file path or `env://VAR`. Undefined: a throwaway key. */
  key?: string;
  /** The key's password; a throwaway key gets a random one. */
  password?: string;
  /** Where `env://VAR` is looked up; process.env by default. */
  env?: Record<string, string | undefined>;
  /** The inputs the key and password came from, for error messages. */
  inputs?: KeyInputNames;
  /** Given: the PEM and password are masked before anything can print them. */
  logger?: Logger;
}

export interface SigningKey {
  key: CosignPrivateKey;
  /** The encrypted PEM and the password that opens it: what the cosign CLI gets (by env, never argv). */
  pem: string;
  password: string;
  /** Where the key came from; `throwaway` when none was given and one was made for this run. */
  origin: KeyOrigin | { kind: "throwaway" };
  throwaway: boolean;
}

/**
 * The key a run signs with: the given key source decrypted with its password (a wrong password or a key
 * that is not ECDSA P-256 fails here, before anything is pushed), or, when no key is given, a fresh
 * throwaway key flagged as such.
 */
export async function loadSigningKey(request: SigningKeyRequest): Promise<SigningKey> {
  const password = request.password ?? "";
  if (request.key === undefined) {
    const throwawayPassword = randomBytes(32).toString("base64");
    if (request.logger) maskSecrets(request.logger, [throwawayPassword]);
    const pair = await generateCosignKeyPair(throwawayPassword);
    const { privateKeyPem, ...key } = pair;
    if (request.logger) maskSecrets(request.logger, [privateKeyPem]);
    return {
      key,
      pem: privateKeyPem,
      password: throwawayPassword,
      origin: { kind: "throwaway" },
      throwaway: true,
    };
  }
  const keyInput = request.inputs?.key ?? "key";
  const source = await resolveKeySource(request.key, request.env ?? process.env, keyInput);
  if (request.logger) maskSecrets(request.logger, [source.pem, password]);
  const key = await loadCosignPrivateKey(source, password, {
    key: keyInput,
    password: request.inputs?.password ?? "password",
  });
  return { key, pem: source.pem, password, origin: source.origin, throwaway: false };
}

/** One line for the log: where the key came from and its fingerprint, never the key. */
export function describeSigningKey(signing: Pick<SigningKey, "origin" | "key">): string {
  const origin =
    signing.origin.kind === "throwaway"
      ? "a throwaway key (no key given)"
      : describeKeyOrigin(signing.origin);
  return `${origin}, ECDSA P-256, sha256:${signing.key.fingerprint}`;
}
