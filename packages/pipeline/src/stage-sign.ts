import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  keySigner,
  keyVerifier,
  loadSigningKey,
  parsePublicKey,
  promoteTags,
  signImages,
  verifyInRegistry,
  type SigningKey,
} from "@frostyard/cosign";
import type { PipelineRun } from "./run-context";
import type { BuiltImage } from "./stage-build";
import type { PushedImage } from "./stage-push";
import { runStage } from "./stages";

/**
 * The key, first of all: a wrong password or an unreadable key fails before an hour of building. No key:
 * a throwaway one that never leaves memory.
 */
export async function loadKeyStage(run: PipelineRun): Promise<SigningKey> {
  const { options, logger } = run;
  const signing = await loadSigningKey({
    ...(options.key !== undefined ? { key: options.key, password: options.password ?? "" } : {}),
    env: run.env,
    logger,
  });
  if (signing.throwaway)
    logger.info(`No key given: signing with a throwaway key (sha256:${signing.key.fingerprint})`);
  return signing;
}

/** Sign: the public key written where the user (and the verify stage) reads it, then the digest signed. */
export async function signStage(
  run: PipelineRun,
  built: BuiltImage,
  pushed: PushedImage,
  signing: SigningKey,
): Promise<string> {
  const { options, report, logger } = run;
  const publicKeyPath = resolve(options.publicKeyPath ?? join(dirname(built.main.outputPath), "cosign.pub"));
  report.signed = await runStage(run.timings, "sign", async () => {
    await mkdir(dirname(publicKeyPath), { recursive: true });
    await writeFile(publicKeyPath, signing.key.publicKeyPem, { mode: 0o644 });
    report.publicKey = {
      path: publicKeyPath,
      fingerprint: signing.key.fingerprint,
      throwaway: signing.throwaway,
    };
    const result = await logger.group(`sign ${pushed.repository}@${pushed.digest}`, () =>
      signImages({
        client: pushed.client,
        images: [`${pushed.repository}@${pushed.digest}`],
        signer: keySigner(signing.key),
        format: options.format,
        recursive: false,
        annotations: {},
        promoteTags: [],
        logger,
      }),
    );
    if (result.failure) throw new Error(result.failure);
    return result;
  });
  return publicKeyPath;
}

/** Verify: again, independently of the signer, with the public key as written: what a host would use. */
export async function verifyStage(
  run: PipelineRun,
  pushed: PushedImage,
  publicKeyPath: string,
): Promise<void> {
  const { options, report, logger } = run;
  report.verification = await runStage(run.timings, "verify", async () => {
    const publicKey = parsePublicKey(await readFile(publicKeyPath, "utf8"), "public-key");
    const result = await verifyInRegistry(
      pushed.client,
      pushed.target,
      pushed.digest,
      options.format,
      keyVerifier(publicKey),
    );
    logger.info(
      `verify ${pushed.repository}@${pushed.digest} with ${publicKeyPath}: ${result.messages.join("; ")}`,
    );
    if (!result.verified) throw new Error(`${result.messages.join("; ")}; no tags were promoted`);
    return result;
  });
}

/**
 * Promote: floating tags move to the digest only now that its signature verified; a tag another run moved
 * on before it was read back is warned about and not reported as promoted.
 */
export async function promoteStage(run: PipelineRun, pushed: PushedImage): Promise<void> {
  const { options, report, logger } = run;
  report.promoted = await runStage(run.timings, "promote", () =>
    promoteTags(pushed.client, pushed.target, pushed.digest, options.promoteTags, { logger }),
  );
  for (const ref of report.promoted) logger.info(`promoted ${ref} → ${pushed.digest}`);
}
