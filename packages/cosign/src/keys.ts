import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scrypt as scryptCallback,
  type KeyObject,
} from "node:crypto";
import { secretbox } from "@noble/ciphers/salsa.js";
import { CosignKeyError } from "./errors";
import { decodePem, decodeStrictBase64, encodePem } from "./pem";
import { assertP256, publicKeyFingerprint, publicKeyPem } from "./public-key";

/** What `cosign generate-key-pair` writes (cosign ≥ 2.0). */
export const SIGSTORE_PRIVATE_KEY_LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY";
/** What cosign 1.x and `skopeo generate-sigstore-key` write; still read by cosign. */
export const COSIGN_PRIVATE_KEY_LABEL = "ENCRYPTED COSIGN PRIVATE KEY";
const ENCRYPTED_LABELS = [SIGSTORE_PRIVATE_KEY_LABEL, COSIGN_PRIVATE_KEY_LABEL];
const ACCEPTED_PEM = `a cosign key: PEM "${SIGSTORE_PRIVATE_KEY_LABEL}" or "${COSIGN_PRIVATE_KEY_LABEL}" (cosign generate-key-pair writes one; cosign import-key-pair converts other keys)`;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * The scrypt settings go-securesystemslib (cosign's key encryption) accepts: legacy, standard and
 * OWASP. Anything else cosign refuses, and refusing it here also bounds the memory a key file can
 * make us spend (128·N·r bytes).
 */
export const COSIGN_SCRYPT_PARAMS: readonly ScryptParams[] = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];
/** What cosign's generate-key-pair has written since 1.0 and every cosign version reads. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 32768, r: 8, p: 1 };

const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const POLY1305_TAG_BYTES = 16;

/** The decoded, not yet decrypted contents of an encrypted cosign key. */
export interface EncryptedKeyEnvelope {
  label: string;
  scrypt: ScryptParams;
  salt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

export interface CosignPrivateKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `-----BEGIN PUBLIC KEY-----`, the `cosign.pub` that verifies this key's signatures. */
  publicKeyPem: string;
  /** Hex sha256 of the public key's SPKI DER. */
  fingerprint: string;
  /** The PEM label the key was stored under. */
  label: string;
}

/** Names of the action inputs the key and password came from, for error messages. */
export interface KeyInputNames {
  key?: string;
  password?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Decodes an encrypted cosign key's PEM and JSON envelope without decrypting it. Every malformed part
 * is named: the PEM block, the JSON, the kdf (scrypt) or the cipher (nacl/secretbox).
 */
export function parseEncryptedKey(pem: string, input = "key"): EncryptedKeyEnvelope {
  let block;
  try {
    block = decodePem(pem);
  } catch (error) {
    throw new CosignKeyError(input, "pem", `the key is not PEM: ${(error as Error).message}`, ACCEPTED_PEM);
  }
  if (!ENCRYPTED_LABELS.includes(block.label)) {
    const what =
      block.label === "PUBLIC KEY"
        ? "a public key; signing needs the private key"
        : /PRIVATE KEY$/.test(block.label)
          ? `an unencrypted or foreign "${block.label}"`
          : `a "${block.label}"`;
    throw new CosignKeyError(input, "pem", `the PEM block is ${what}`, ACCEPTED_PEM);
  }

  let json: unknown;
  try {
    json = JSON.parse(block.bytes.toString("utf8"));
  } catch (error) {
    throw new CosignKeyError(
      input,
      "json",
      `the ${block.label} body is not JSON (${(error as Error).message})`,
      '{"kdf":{…},"cipher":{…},"ciphertext":"…"} as cosign writes it',
    );
  }
  if (!isRecord(json)) {
    throw new CosignKeyError(
      input,
      "json",
      `the ${block.label} body is not a JSON object`,
      '{"kdf","cipher","ciphertext"}',
    );
  }

  const kdf = json.kdf;
  if (!isRecord(kdf))
    throw new CosignKeyError(input, "kdf", 'the key has no "kdf" object', '"kdf":{"name":"scrypt",…}');
  if (kdf.name !== "scrypt") {
    throw new CosignKeyError(input, "kdf", `kdf.name is ${JSON.stringify(kdf.name)}`, '"scrypt"');
  }
  const params = kdf.params;
  if (!isRecord(params) || ![params.N, params.r, params.p].every((v) => Number.isSafeInteger(v))) {
    throw new CosignKeyError(
      input,
      "kdf",
      "kdf.params does not hold integer N, r and p",
      '{"N":32768,"r":8,"p":1}',
    );
  }
  const scrypt = { N: params.N as number, r: params.r as number, p: params.p as number };
  if (
    !COSIGN_SCRYPT_PARAMS.some(
      (known) => known.N === scrypt.N && known.r === scrypt.r && known.p === scrypt.p,
    )
  ) {
    throw new CosignKeyError(
      input,
      "kdf",
      `scrypt parameters N=${scrypt.N}, r=${scrypt.r}, p=${scrypt.p} are not ones cosign uses`,
      COSIGN_SCRYPT_PARAMS.map((k) => `N=${k.N} r=${k.r} p=${k.p}`).join(", or "),
    );
  }
  const salt = typeof kdf.salt === "string" ? decodeStrictBase64(kdf.salt) : undefined;
  if (!salt || salt.length === 0) {
    throw new CosignKeyError(input, "kdf", "kdf.salt is missing or not base64", "base64 of random bytes");
  }

  const cipher = json.cipher;
  if (!isRecord(cipher)) {
    throw new CosignKeyError(
      input,
      "cipher",
      'the key has no "cipher" object',
      '"cipher":{"name":"nacl/secretbox",…}',
    );
  }
  if (cipher.name !== "nacl/secretbox") {
    throw new CosignKeyError(
      input,
      "cipher",
      `cipher.name is ${JSON.stringify(cipher.name)}`,
      '"nacl/secretbox"',
    );
  }
  const nonce = typeof cipher.nonce === "string" ? decodeStrictBase64(cipher.nonce) : undefined;
  if (!nonce || nonce.length !== NONCE_BYTES) {
    throw new CosignKeyError(
      input,
      "cipher",
      "cipher.nonce is missing, not base64, or not 24 bytes",
      "base64 of a 24-byte nonce",
    );
  }
  const ciphertext = typeof json.ciphertext === "string" ? decodeStrictBase64(json.ciphertext) : undefined;
  if (!ciphertext || ciphertext.length <= POLY1305_TAG_BYTES) {
    throw new CosignKeyError(
      input,
      "cipher",
      "ciphertext is missing, not base64, or shorter than a secretbox tag",
      "base64 of the sealed PKCS#8 key",
    );
  }
  return { label: block.label, scrypt, salt, nonce, ciphertext };
}

function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  // Node refuses to allocate more than maxmem; scrypt needs 128·N·r bytes (plus p lanes run in turn).
  const maxmem = 128 * params.N * params.r + 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(Buffer.from(password, "utf8"), salt, KEY_BYTES, { ...params, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Decrypts a cosign private key (PEM `ENCRYPTED SIGSTORE PRIVATE KEY` or `ENCRYPTED COSIGN PRIVATE KEY`:
 * scrypt with the file's N/r/p, then NaCl secretbox, then PKCS#8) and requires ECDSA P-256.
 */
export async function loadCosignPrivateKey(
  source: { pem: string },
  password: string,
  inputs: KeyInputNames = {},
): Promise<CosignPrivateKey> {
  const keyInput = inputs.key ?? "key";
  const envelope = parseEncryptedKey(source.pem, keyInput);
  const secretKey = await deriveKey(password, envelope.salt, envelope.scrypt);
  let pkcs8: Uint8Array;
  try {
    pkcs8 = secretbox(secretKey, envelope.nonce).open(envelope.ciphertext);
  } catch {
    throw new CosignKeyError(
      inputs.password ?? "password",
      "password",
      "wrong password or corrupted key (secretbox authentication failed)",
      "the password the key was created with",
    );
  } finally {
    secretKey.fill(0);
  }

  let privateKey: KeyObject;
  try {
    // A view, not a copy, so the fill below clears the only plaintext copy we made.
    const der = Buffer.from(pkcs8.buffer, pkcs8.byteOffset, pkcs8.byteLength);
    privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch (error) {
    throw new CosignKeyError(
      keyInput,
      "pkcs8",
      `the decrypted key is not a PKCS#8 private key (${(error as Error).message})`,
      "a PKCS#8 ECDSA P-256 key as cosign stores it",
    );
  } finally {
    pkcs8.fill(0);
  }
  assertP256(privateKey, keyInput);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKeyPem(publicKey),
    fingerprint: publicKeyFingerprint(publicKey),
    label: envelope.label,
  };
}

export interface EncryptKeyOptions {
  /** Defaults to `ENCRYPTED SIGSTORE PRIVATE KEY`, as cosign ≥ 2 writes. */
  label?: string;
  /** Defaults to N=32768, r=8, p=1. */
  scrypt?: ScryptParams;
}

/**
 * Encrypts a private key the way cosign does (PKCS#8 → secretbox under scrypt(password)), with the same
 * JSON field order cosign writes, so cosign and skopeo can read the result.
 */
export async function encryptCosignPrivateKey(
  privateKey: KeyObject,
  password: string,
  options: EncryptKeyOptions = {},
): Promise<string> {
  const label = options.label ?? SIGSTORE_PRIVATE_KEY_LABEL;
  const params = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  const secretKey = await deriveKey(password, salt, params);
  let ciphertext: Uint8Array;
  try {
    ciphertext = secretbox(secretKey, nonce).seal(pkcs8);
  } finally {
    secretKey.fill(0);
    pkcs8.fill(0);
  }
  const json =
    `{"kdf":{"name":"scrypt","params":{"N":${params.N},"r":${params.r},"p":${params.p}},` +
    `"salt":"${salt.toString("base64")}"},` +
    `"cipher":{"name":"nacl/secretbox","nonce":"${nonce.toString("base64")}"},` +
    `"ciphertext":"${Buffer.from(ciphertext).toString("base64")}"}`;
  return encodePem(label, Buffer.from(json, "utf8"));
}

export interface CosignKeyPair extends CosignPrivateKey {
  /** The encrypted `cosign.key`. */
  privateKeyPem: string;
}

/** A fresh ECDSA P-256 key pair, encrypted as `cosign generate-key-pair` does (for throwaway keys). */
export async function generateCosignKeyPair(password: string): Promise<CosignKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privateKey,
    publicKey,
    privateKeyPem: await encryptCosignPrivateKey(privateKey, password),
    publicKeyPem: publicKeyPem(publicKey),
    fingerprint: publicKeyFingerprint(publicKey),
    label: SIGSTORE_PRIVATE_KEY_LABEL,
  };
}
