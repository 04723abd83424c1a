import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { InputError, type Logger } from "@frostyard/kit";
import { GpgKeyError, importSigningKey, type GpgSigner } from "@frostyard/sysext";
import { readState, saveState, STATE } from "..";

/**
 * The gpg-private-key input imported into a throwaway GNUPGHOME under RUNNER_TEMP, proven by a test
 * signature before the build; the post step removes the home even when the main step died.
 */
export async function loadSigner(
  key: string | undefined,
  passphrase: string,
  logger: Logger,
): Promise<GpgSigner | undefined> {
  if (key === undefined) return undefined;
  try {
    const signer = await importSigningKey(key, passphrase, {
      parent: process.env.RUNNER_TEMP || tmpdir(),
      logger,
    });
    saveState(STATE.gnupgHome, signer.home);
    logger.info(`SHA256SUMS will be signed with key ${signer.fingerprint}`);
    return signer;
  } catch (error) {
    if (!(error instanceof GpgKeyError)) throw error;
    if (error.problem === "bad-passphrase")
      throw new InputError(
        "gpg-passphrase",
        error.message,
        "the passphrase of gpg-private-key (empty for an unprotected key)",
      );
    throw new InputError(
      "gpg-private-key",
      error.message,
      "an OpenPGP secret key, armored (gpg --export-secret-keys --armor) or binary",
    );
  }
}

/** The post step's half: the GNUPGHOME is gone even after a main step that died mid-build. */
export async function removeGnupgHome(): Promise<void> {
  const home = readState(STATE.gnupgHome);
  if (home) await rm(home, { recursive: true, force: true });
}
