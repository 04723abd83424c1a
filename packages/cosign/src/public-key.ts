import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { CosignKeyError } from "./errors";
import { decodePem } from "./pem";

const CURVE_NAMES: Record<string, string> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

/** A human name for a key's algorithm: `ECDSA P-256`, `ECDSA secp256k1`, `Ed25519`, `RSA 2048-bit`. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ec": {
      const curve = details.namedCurve ?? "unknown curve";
      return `ECDSA ${CURVE_NAMES[curve] ?? curve}`;
    }
    case "ed25519":
      return "Ed25519";
    case "ed448":
      return "Ed448";
    case "rsa":
    case "rsa-pss":
      return `${key.asymmetricKeyType.toUpperCase()} ${details.modulusLength ?? "?"}-bit`;
    default:
      return key.asymmetricKeyType ?? "an unknown key type";
  }
}

export function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}

/** Throws unless the key is ECDSA P-256, the only key type cosign's legacy format is used with here. */
export function assertP256(key: KeyObject, input: string): void {
  if (!isP256(key)) {
    throw new CosignKeyError(input, "key-type", `key is ${describeKey(key)}`, "ECDSA P-256");
  }
}

/** The SPKI DER of a public key. */
export function publicKeyDer(key: KeyObject): Buffer {
  return key.export({ type: "spki", format: "der" });
}

/** `-----BEGIN PUBLIC KEY-----` (PKIX), as cosign writes `cosign.pub`. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}

/** Hex sha256 of the SPKI DER: a stable, non-secret name for a key. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash("sha256").update(publicKeyDer(key)).digest("hex");
}

/**
 * Parses a PEM `PUBLIC KEY` (or takes a KeyObject) and requires ECDSA P-256. `input` names where it
 * came from in errors. A private key is refused: a verifier never needs one.
 */
export function parsePublicKey(key: string | KeyObject, input = "public-key"): KeyObject {
  let parsed: KeyObject;
  if (typeof key === "string") {
    let block;
    try {
      block = decodePem(key);
    } catch (error) {
      throw new CosignKeyError(input, "public-key", (error as Error).message, "a PEM PUBLIC KEY");
    }
    if (block.label !== "PUBLIC KEY") {
      throw new CosignKeyError(input, "public-key", `the PEM block is "${block.label}"`, "a PEM PUBLIC KEY");
    }
    try {
      parsed = createPublicKey({ key: block.bytes, format: "der", type: "spki" });
    } catch (error) {
      throw new CosignKeyError(
        input,
        "public-key",
        `the PUBLIC KEY is not a valid PKIX key (${(error as Error).message})`,
        "a PEM PUBLIC KEY",
      );
    }
  } else {
    if (key.type !== "public") {
      throw new CosignKeyError(input, "public-key", `got a ${key.type} key`, "a public key");
    }
    parsed = key;
  }
  assertP256(parsed, input);
  return parsed;
}
