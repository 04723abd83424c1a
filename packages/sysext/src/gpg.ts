import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ExecError, execStreaming, type Logger } from "@frostyard/kit";

/** The key or passphrase given cannot sign: which one, in the library's words. */
export class GpgKeyError extends Error {
  constructor(
    readonly problem: "not-a-key" | "no-secret-key" | "bad-passphrase",
    message: string,
  ) {
    super(message);
    this.name = "GpgKeyError";
  }
}

/** argv for gpg in a throwaway home, never prompting; secrets travel on stdin, never here. */
export function gpgArgv(home: string, ...args: string[]): string[] {
  return ["--batch", "--no-tty", "--homedir", home, ...args];
}

export const SIGN_ARGS = (file: string, signature: string) => [
  "--pinentry-mode",
  "loopback",
  "--passphrase-fd",
  "0",
  "--yes",
  "--detach-sign",
  "--output",
  signature,
  file,
];

/** gpg's words for a passphrase that did not unlock the key. */
export function isBadPassphrase(stderr: readonly string[]): boolean {
  return stderr.some((line) =>
    /bad passphrase|no passphrase given|Bad session key|Passphrase check failed/i.test(line),
  );
}

/** Secret key fingerprints in `gpg --list-secret-keys --with-colons` output. */
export function secretKeyFingerprints(colons: string): string[] {
  const out: string[] = [];
  let inSecret = false;
  for (const line of colons.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === "sec") inSecret = true;
    else if (fields[0] === "pub" || fields[0] === "ssb" || fields[0] === "sub") inSecret = false;
    else if (fields[0] === "fpr" && inSecret) {
      out.push(fields[9] ?? "");
      inSecret = false;
    }
  }
  return out.filter((f) => f !== "");
}

/** A signing key imported into its own GNUPGHOME, removed with `dispose` (the post step's job too). */
export interface GpgSigner {
  home: string;
  fingerprint: string;
  /** Writes `<file>.gpg`, a detached binary signature as systemd-pull verifies SHA256SUMS.gpg. */
  sign(file: string): Promise<string>;
  dispose(): Promise<void>;
}

/**
 * Imports an armored or binary secret key into a fresh GNUPGHOME under `parent` and proves the passphrase
 * by signing once, so a bad key or passphrase fails before anything is built.
 */
export async function importSigningKey(
  key: string,
  passphrase: string,
  options: { parent: string; logger: Logger; gpg?: string },
): Promise<GpgSigner> {
  const gpg = options.gpg ?? "gpg";
  const home = await mkdtemp(join(options.parent, "sysext-gnupg-"));
  await chmod(home, 0o700);
  const dispose = () => rm(home, { recursive: true, force: true });
  const quiet = {
    logger: options.logger,
    echoCommand: false,
    onStderrLine: (l: string) => options.logger.debug(l),
  };
  try {
    const imported = await execStreaming(gpg, gpgArgv(home, "--import"), {
      ...quiet,
      input: key,
      ignoreReturnCode: true,
    });
    const listed = await execStreaming(gpg, gpgArgv(home, "--list-secret-keys", "--with-colons"), {
      ...quiet,
      captureStdout: true,
      ignoreReturnCode: true,
    });
    const fingerprints = secretKeyFingerprints(listed.stdout);
    if (fingerprints.length === 0) {
      if (imported.exitCode !== 0 || imported.stderrTail.some((l) => /no valid OpenPGP data/i.test(l)))
        throw new GpgKeyError(
          "not-a-key",
          "is not an OpenPGP key (gpg --import found no valid OpenPGP data)",
        );
      throw new GpgKeyError("no-secret-key", "holds no secret key (a public key cannot sign)");
    }
    const fingerprint = fingerprints[0]!;
    const sign = async (file: string) => {
      const signature = `${file}.gpg`;
      try {
        await execStreaming(gpg, gpgArgv(home, "--local-user", fingerprint, ...SIGN_ARGS(file, signature)), {
          ...quiet,
          input: `${passphrase}\n`,
        });
      } catch (error) {
        if (error instanceof ExecError && isBadPassphrase(error.stderrTail))
          throw new GpgKeyError("bad-passphrase", `does not unlock key ${fingerprint}`);
        throw error;
      }
      return signature;
    };
    // Proves key and passphrase now, not after the build.
    const probe = join(home, "probe");
    await writeFile(probe, "build-sysext signing probe\n");
    await sign(probe);
    return { home, fingerprint, sign, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
