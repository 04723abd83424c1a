import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CosignKeyError, describeSigningKey, loadCosignPrivateKey, loadSigningKey } from "@frostyard/cosign";
import type { Logger } from "@frostyard/kit";
import { sharedFixture } from "../helpers/fixtures";

const KEY_FILE = sharedFixture("cosign/keys/cosign-testdata-sigstore-label-password-hello.key");
const PUB = readFileSync(
  sharedFixture("cosign/keys/cosign-testdata-sigstore-label-password-hello.derived.pub"),
  "utf8",
);
const PEM = readFileSync(KEY_FILE, "utf8");

function maskingLogger(): Logger & { masked: string[] } {
  const masked: string[] = [];
  return {
    masked,
    debug: () => {},
    info: () => {},
    warning: () => {},
    error: () => {},
    group: (_n, fn) => fn(),
    setSecret: (value) => masked.push(value),
  };
}

/** The one key loader every signing entry calls (cosign-sign's engines, the pipeline). */
describe("loadSigningKey", () => {
  test.each<[string, string, Record<string, string>, string]>([
    ["a key file", KEY_FILE, {}, `key file ${KEY_FILE}`],
    ["inline PEM", PEM, {}, "key given inline"],
    ["env://VAR", "env://SIGNING_KEY", { SIGNING_KEY: PEM }, "env://SIGNING_KEY"],
  ])(
    "%s + its password → the decrypted key, the PEM and password for the CLI, masked",
    async (_name, key, env, origin) => {
      const logger = maskingLogger();
      const signing = await loadSigningKey({ key, password: "hello", env, logger });
      expect(signing.throwaway).toBe(false);
      expect(signing.key.publicKeyPem.trim()).toBe(PUB.trim());
      expect(signing.pem).toBe(PEM);
      expect(signing.password).toBe("hello");
      expect(describeSigningKey(signing)).toBe(`${origin}, ECDSA P-256, sha256:${signing.key.fingerprint}`);
      expect(logger.masked).toEqual(
        expect.arrayContaining(["hello", ...PEM.split("\n").filter((l) => l.trim())]),
      );
    },
  );

  test("no key: a throwaway key, flagged, whose PEM opens with the password it comes with", async () => {
    const logger = maskingLogger();
    const signing = await loadSigningKey({ logger });
    expect(signing.throwaway).toBe(true);
    expect(signing.origin).toEqual({ kind: "throwaway" });
    expect(describeSigningKey(signing)).toMatch(
      /^a throwaway key \(no key given\), ECDSA P-256, sha256:[0-9a-f]{64}$/,
    );
    const reopened = await loadCosignPrivateKey({ pem: signing.pem }, signing.password);
    expect(reopened.fingerprint).toBe(signing.key.fingerprint);
    expect(logger.masked).toContain(signing.password);
    expect("privateKeyPem" in signing.key).toBe(false);
  });

  test.each<[string, Parameters<typeof loadSigningKey>[0], string]>([
    [
      "a wrong password names the password input",
      { key: KEY_FILE, password: "nope", inputs: { password: "signing-password" } },
      "input 'signing-password': wrong password",
    ],
    [
      "an unset env:// variable names the key input",
      { key: "env://NOPE", env: {}, inputs: { key: "signing-key" } },
      "input 'signing-key': environment variable NOPE",
    ],
  ])("%s", async (_name, request, message) => {
    const error = await loadSigningKey(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignKeyError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain(PEM.split("\n")[1]!);
  });
});
