import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scryptSync,
  verify,
  type KeyObject,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { secretbox } from "@noble/ciphers/salsa.js";
import { describe, expect, test } from "vitest";
import {
  COSIGN_PRIVATE_KEY_LABEL,
  CosignKeyError,
  encodePem,
  encryptCosignPrivateKey,
  generateCosignKeyPair,
  loadCosignPrivateKey,
  parseEncryptedKey,
  signPayload,
  SIGSTORE_PRIVATE_KEY_LABEL,
} from "@frostyard/cosign";

const KEYS = fileURLToPath(new URL("../fixtures/shared/cosign/keys/", import.meta.url));
const read = (name: string) => readFileSync(`${KEYS}${name}`, "utf8");

async function keyError(fn: () => Promise<unknown> | unknown): Promise<CosignKeyError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof CosignKeyError) return error;
    throw error;
  }
  throw new Error("expected a CosignKeyError, nothing was thrown");
}

/** The JSON text inside a key's PEM. */
function keyJson(pem: string): string {
  const body = pem
    .split("\n")
    .filter((line) => line && !line.startsWith("-----"))
    .join("");
  return Buffer.from(body, "base64").toString("utf8");
}

/** The key's JSON with every base64 value replaced: the shape cosign writes. */
function envelopeShape(pem: string): string {
  return keyJson(pem).replace(/"(salt|nonce|ciphertext)":"[^"]*"/g, '"$1":"…"');
}

/** Re-encodes a fixture key with its JSON changed by `mutate`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary JSON paths
type Json = any;

function mutateKey(pem: string, mutate: (json: Json) => void): string {
  const json: Json = JSON.parse(keyJson(pem));
  mutate(json);
  return encodePem(SIGSTORE_PRIVATE_KEY_LABEL, Buffer.from(JSON.stringify(json)));
}

const FIXTURE_KEYS = [
  // name, password, public key file, PEM label, scrypt N
  ["bluebuild-empty-password.key", "", "bluebuild-empty-password.pub", SIGSTORE_PRIVATE_KEY_LABEL, 65536],
  [
    "cosign-testdata-cosign-label-password-hello.key",
    "hello",
    "cosign-testdata-cosign-label-password-hello.derived.pub",
    COSIGN_PRIVATE_KEY_LABEL,
    32768,
  ],
  [
    "cosign-testdata-sigstore-label-password-hello.key",
    "hello",
    "cosign-testdata-sigstore-label-password-hello.derived.pub",
    SIGSTORE_PRIVATE_KEY_LABEL,
    32768,
  ],
] as const;

describe("fixture keys written by cosign", () => {
  test.each(FIXTURE_KEYS)(
    "%s decrypts with its password and matches its public key",
    async (name, password, pub, label, n) => {
      const key = await loadCosignPrivateKey({ pem: read(name) }, password);
      expect(key.publicKeyPem).toBe(read(pub));
      expect(key.label).toBe(label);
      expect(parseEncryptedKey(read(name)).scrypt).toEqual({ N: n, r: 8, p: 1 });
      const der = createPublicKey(read(pub)).export({ type: "spki", format: "der" });
      expect(key.fingerprint).toBe(createHash("sha256").update(der).digest("hex"));
      // The decrypted key signs, and the published public key verifies it.
      const message = Buffer.from("frostyard");
      const signature = Buffer.from(signPayload(message, key.privateKey), "base64");
      expect(verify("sha256", message, { key: read(pub), dsaEncoding: "der" }, signature)).toBe(true);
    },
  );

  test.each(FIXTURE_KEYS)("%s refuses a wrong password", async (name, password) => {
    const error = await keyError(() => loadCosignPrivateKey({ pem: read(name) }, `${password}x`));
    expect(error.problem).toBe("password");
    expect(error.input).toBe("password");
    expect(error.message).toBe(
      "input 'password': wrong password or corrupted key (secretbox authentication failed); expected the password the key was created with",
    );
  });

  test("a flipped ciphertext byte fails authentication even with the right password", async () => {
    const pem = mutateKey(read("cosign-testdata-sigstore-label-password-hello.key"), (json) => {
      const bytes = Buffer.from(json.ciphertext, "base64");
      bytes[20] = (bytes[20] as number) ^ 1;
      json.ciphertext = bytes.toString("base64");
    });
    expect((await keyError(() => loadCosignPrivateKey({ pem }, "hello"))).problem).toBe("password");
  });

  test("error messages name the inputs the caller gives and never contain the password", async () => {
    const error = await keyError(() =>
      loadCosignPrivateKey({ pem: read("bluebuild-empty-password.key") }, "s3cret-pass", {
        password: "cosign-password",
      }),
    );
    expect(error.input).toBe("cosign-password");
    expect(error.message).not.toContain("s3cret-pass");
  });
});

describe("malformed keys name the part that is wrong", () => {
  const good = read("cosign-testdata-sigstore-label-password-hello.key");
  test.each<[string, string, string, string]>([
    ["no PEM at all", "just some text", "pem", 'no "-----BEGIN …-----" line'],
    [
      "no END line",
      "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabcd\n",
      "pem",
      'has no "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----" line',
    ],
    [
      "body not base64",
      "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n@@@@\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
      "pem",
      "not valid base64",
    ],
    [
      "a public key",
      read("bluebuild-empty-password.pub"),
      "pem",
      "the PEM block is a public key; signing needs the private key",
    ],
    [
      "an unencrypted key",
      generateKeyPairSync("ec", { namedCurve: "prime256v1" })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
      "pem",
      'unencrypted or foreign "PRIVATE KEY"',
    ],
    [
      "body not JSON",
      encodePem(SIGSTORE_PRIVATE_KEY_LABEL, Buffer.from("not json")),
      "json",
      "body is not JSON",
    ],
    ["JSON array", encodePem(SIGSTORE_PRIVATE_KEY_LABEL, Buffer.from("[]")), "json", "not a JSON object"],
    ["no kdf", mutateKey(good, (j) => delete j.kdf), "kdf", 'no "kdf" object'],
    ["another kdf", mutateKey(good, (j) => (j.kdf.name = "argon2id")), "kdf", 'kdf.name is "argon2id"'],
    ["non-integer params", mutateKey(good, (j) => (j.kdf.params.N = "32768")), "kdf", "integer N, r and p"],
    [
      "params cosign refuses",
      mutateKey(good, (j) => (j.kdf.params = { N: 1 << 24, r: 8, p: 1 })),
      "kdf",
      "N=16777216, r=8, p=1 are not ones cosign uses",
    ],
    ["salt not base64", mutateKey(good, (j) => (j.kdf.salt = "%%%")), "kdf", "kdf.salt"],
    [
      "another cipher",
      mutateKey(good, (j) => (j.cipher.name = "aes-gcm")),
      "cipher",
      'cipher.name is "aes-gcm"',
    ],
    [
      "short nonce",
      mutateKey(good, (j) => (j.cipher.nonce = Buffer.alloc(12).toString("base64"))),
      "cipher",
      "not 24 bytes",
    ],
    [
      "ciphertext shorter than a tag",
      mutateKey(good, (j) => (j.ciphertext = Buffer.alloc(16).toString("base64"))),
      "cipher",
      "shorter than a secretbox tag",
    ],
  ])("%s", async (_name, pem, problem, fragment) => {
    const error = await keyError(() => loadCosignPrivateKey({ pem }, "hello"));
    expect(error.problem).toBe(problem);
    expect(error.input).toBe("key");
    expect(error.message).toContain(fragment);
    expect(error.message).toContain("; expected ");
  });

  test("a secretbox that opens to something other than PKCS#8 is reported as such", async () => {
    const salt = randomBytes(32);
    const nonce = randomBytes(24);
    const key = scryptSync("pw", salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const sealed = secretbox(key, nonce).seal(Buffer.from("definitely not DER"));
    const json = {
      kdf: { name: "scrypt", params: { N: 32768, r: 8, p: 1 }, salt: salt.toString("base64") },
      cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
      ciphertext: Buffer.from(sealed).toString("base64"),
    };
    const error = await keyError(() =>
      loadCosignPrivateKey(
        { pem: encodePem(SIGSTORE_PRIVATE_KEY_LABEL, Buffer.from(JSON.stringify(json))) },
        "pw",
      ),
    );
    expect(error.problem).toBe("pkcs8");
    expect(error.message).toContain("not a PKCS#8 private key");
  });
});

describe("only ECDSA P-256 keys are accepted", () => {
  test.each<[string, () => KeyObject, string]>([
    ["Ed25519", () => generateKeyPairSync("ed25519").privateKey, "key is Ed25519"],
    ["P-384", () => generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey, "key is ECDSA P-384"],
    [
      "secp256k1",
      () => generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey,
      "key is ECDSA secp256k1",
    ],
    ["RSA", () => generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey, "key is RSA 1024-bit"],
  ])("%s", async (_name, make, fragment) => {
    const pem = await encryptCosignPrivateKey(make(), "pw");
    const error = await keyError(() => loadCosignPrivateKey({ pem }, "pw"));
    expect(error.problem).toBe("key-type");
    expect(error.message).toBe(`input 'key': ${fragment}; expected ECDSA P-256`);
  });
});

describe("generateCosignKeyPair", () => {
  test("writes what cosign generate-key-pair writes, and loads back", async () => {
    const pair = await generateCosignKeyPair("throwaway");
    const envelope = parseEncryptedKey(pair.privateKeyPem);
    expect(envelope.label).toBe(SIGSTORE_PRIVATE_KEY_LABEL);
    expect(envelope.scrypt).toEqual({ N: 32768, r: 8, p: 1 });
    expect(envelope.salt.length).toBe(32);
    expect(envelope.nonce.length).toBe(24);
    // Same JSON field order and PEM line width as a key cosign wrote.
    expect(envelopeShape(pair.privateKeyPem)).toBe(
      envelopeShape(read("cosign-testdata-sigstore-label-password-hello.key")),
    );
    expect(pair.privateKeyPem.split("\n").every((line) => line.length <= 64)).toBe(true);

    const loaded = await loadCosignPrivateKey({ pem: pair.privateKeyPem }, "throwaway");
    expect(loaded.publicKeyPem).toBe(pair.publicKeyPem);
    expect(loaded.fingerprint).toBe(pair.fingerprint);
    expect((await keyError(() => loadCosignPrivateKey({ pem: pair.privateKeyPem }, "other"))).problem).toBe(
      "password",
    );
  });

  test("two generated keys differ in key, salt and nonce", async () => {
    const [a, b] = await Promise.all([generateCosignKeyPair(""), generateCosignKeyPair("")]);
    expect(a.publicKeyPem).not.toBe(b.publicKeyPem);
    const [ea, eb] = [parseEncryptedKey(a.privateKeyPem), parseEncryptedKey(b.privateKeyPem)];
    expect(ea.salt.equals(eb.salt)).toBe(false);
    expect(ea.nonce.equals(eb.nonce)).toBe(false);
  });

  test("the legacy COSIGN label can be written for older readers", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = await encryptCosignPrivateKey(privateKey, "pw", { label: COSIGN_PRIVATE_KEY_LABEL });
    expect(pem.startsWith(`-----BEGIN ${COSIGN_PRIVATE_KEY_LABEL}-----\n`)).toBe(true);
    const loaded = await loadCosignPrivateKey({ pem }, "pw");
    expect(loaded.publicKeyPem).toBe(publicKey.export({ type: "spki", format: "pem" }));
  });
});
