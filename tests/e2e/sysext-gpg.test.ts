import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { GpgKeyError, importSigningKey } from "@frostyard/sysext";
import { missingTools } from "../helpers/tools";

/**
 * build-sysext's signing against the real gpg: a throwaway key made here, imported into its own GNUPGHOME,
 * SHA256SUMS signed detached and verified by gpgv with only the public key, as systemd-pull does.
 */
const run = promisify(execFile);
const PASSPHRASE = "sysext-pass-7c1d";

describe.skipIf(missingTools("gpg", "gpgv"))("importSigningKey and detached signatures with real gpg", () => {
  let scratch: string;
  let secretKey: string;
  let publicKey: string;
  let unprotectedKey: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "frostyard-sysext-gpg-"));
    const gen = async (home: string, passphrase: string) => {
      await run("gpg", [
        "--batch",
        "--homedir",
        home,
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        passphrase,
        "--quick-gen-key",
        "Sysext Test <sysext@example.invalid>",
        "ed25519",
        "sign",
        "never",
      ]);
      const { stdout } = await run("gpg", [
        "--batch",
        "--homedir",
        home,
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        passphrase,
        "--armor",
        "--export-secret-keys",
      ]);
      return stdout;
    };
    const home = await mkdtemp(join(scratch, "gen-"));
    secretKey = await gen(home, PASSPHRASE);
    publicKey = (await run("gpg", ["--batch", "--homedir", home, "--armor", "--export"])).stdout;
    await writeFile(join(scratch, "public.asc"), publicKey);
    await run("gpg", [
      "--batch",
      "--yes",
      "--output",
      join(scratch, "pubring.gpg"),
      "--dearmor",
      join(scratch, "public.asc"),
    ]);
    unprotectedKey = await gen(await mkdtemp(join(scratch, "gen-")), "");
  }, 60_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("signs SHA256SUMS detached; gpgv with only the public key accepts it and refuses other bytes", async () => {
    const logger = recordingLogger();
    const signer = await importSigningKey(secretKey, PASSPHRASE, { parent: scratch, logger });
    expect(signer.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    const sums = join(scratch, "SHA256SUMS");
    await writeFile(sums, `${"a".repeat(64)}  vim_1_13_x86-64.raw\n`);
    expect(await signer.sign(sums)).toBe(`${sums}.gpg`);
    await run("gpgv", ["--keyring", join(scratch, "pubring.gpg"), `${sums}.gpg`, sums]);
    await writeFile(sums, `${"b".repeat(64)}  vim_1_13_x86-64.raw\n`);
    await expect(
      run("gpgv", ["--keyring", join(scratch, "pubring.gpg"), `${sums}.gpg`, sums]),
    ).rejects.toThrow(/BAD signature/);
    // The passphrase never reached a log line.
    expect(logger.lines.join("\n")).not.toContain(PASSPHRASE);
    await signer.dispose();
    expect(existsSync(signer.home)).toBe(false);
  });

  test("an unprotected key needs no passphrase", async () => {
    const signer = await importSigningKey(unprotectedKey, "", { parent: scratch, logger: recordingLogger() });
    await signer.dispose();
  });

  test.each<[string, () => [string, string], GpgKeyError["problem"]]>([
    ["a wrong passphrase", () => [secretKey, "not-the-passphrase"], "bad-passphrase"],
    ["no passphrase for a protected key", () => [secretKey, ""], "bad-passphrase"],
    [
      "text that is no key",
      () => ["-----BEGIN PGP PRIVATE KEY BLOCK-----\nnot a key\n-----END PGP PRIVATE KEY BLOCK-----\n", ""],
      "not-a-key",
    ],
    ["a public key", () => [publicKey, ""], "no-secret-key"],
  ])("%s is refused before anything is signed, and its home removed", async (_, given, problem) => {
    const [key, passphrase] = given();
    const before = new Set((await run("ls", [scratch])).stdout.split("\n"));
    let error: unknown;
    try {
      await importSigningKey(key, passphrase, { parent: scratch, logger: recordingLogger() });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GpgKeyError);
    expect((error as GpgKeyError).problem).toBe(problem);
    const after = (await run("ls", [scratch])).stdout.split("\n").filter((n) => !before.has(n));
    expect(after).toEqual([]);
  });
});
