import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { CosignKeyError, describeKeyOrigin, resolveKeySource } from "@frostyard/cosign";

const dir = mkdtempSync(join(tmpdir(), "cosign-key-source-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PEM =
  "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabcd\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const keyFile = join(dir, "cosign.key");
writeFileSync(keyFile, PEM);

async function sourceError(
  value: string,
  env: Record<string, string | undefined> = {},
): Promise<CosignKeyError> {
  try {
    await resolveKeySource(value, env);
  } catch (error) {
    if (error instanceof CosignKeyError) return error;
    throw error;
  }
  throw new Error("expected a CosignKeyError");
}

describe("resolveKeySource", () => {
  test.each<[string, string, Record<string, string>, string]>([
    ["inline PEM", PEM, {}, "key given inline"],
    ["inline PEM with surrounding blank lines", `\n\n${PEM}\n`, {}, "key given inline"],
    ["env://", "env://COSIGN_PRIVATE_KEY", { COSIGN_PRIVATE_KEY: PEM }, "env://COSIGN_PRIVATE_KEY"],
    ["a path", keyFile, {}, `key file ${keyFile}`],
    ["a path with surrounding spaces", `  ${keyFile} `, {}, `key file ${keyFile}`],
  ])("%s", async (_name, value, env, origin) => {
    const source = await resolveKeySource(value, env);
    expect(source.pem.trim()).toBe(PEM.trim());
    expect(describeKeyOrigin(source.origin)).toBe(origin);
  });

  test.each<[string, string, Record<string, string | undefined>, string]>([
    [
      "empty",
      "  ",
      {},
      "input 'key': the key is empty; expected PEM key content, a path to a key file, or env://VARIABLE",
    ],
    [
      "unset variable",
      "env://COSIGN_PRIVATE_KEY",
      {},
      "environment variable COSIGN_PRIVATE_KEY (from env://COSIGN_PRIVATE_KEY) is not set",
    ],
    [
      "empty variable",
      "env://COSIGN_PRIVATE_KEY",
      { COSIGN_PRIVATE_KEY: " \n" },
      "environment variable COSIGN_PRIVATE_KEY (from env://COSIGN_PRIVATE_KEY) is empty",
    ],
    ["bad variable name", "env://1-KEY", {}, '"env://1-KEY" does not name an environment variable'],
    [
      "missing file",
      join(dir, "nope.key"),
      {},
      `the file "${join(dir, "nope.key")}" cannot be read (ENOENT)`,
    ],
    ["a directory", dir, {}, "cannot be read (EISDIR)"],
  ])("%s", async (_name, value, env, fragment) => {
    const error = await sourceError(value, env);
    expect(error.input).toBe("key");
    expect(error.problem).toBe("source");
    expect(error.message).toContain(fragment);
  });

  test("a pasted key without PEM lines is not echoed back as a path", async () => {
    const secretLooking = Buffer.alloc(300, 7).toString("base64");
    const error = await sourceError(secretLooking);
    expect(error.message).not.toContain(secretLooking.slice(0, 40));
    expect(error.message).toContain(`(${secretLooking.length} characters)`);
  });

  test("multi-line content without a PEM block is refused without echoing it", async () => {
    const error = await sourceError("line one secret\nline two secret");
    expect(error.message).not.toContain("secret");
    expect(error.message).toContain('has no "-----BEGIN" line and is not a file path');
  });
});
