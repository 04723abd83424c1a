import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { homedir } from "node:os";
import { ExecError, execStreaming, findDownload, installTool, runnerArch, type Logger } from "@frostyard/kit";
import {
  COSIGN_DOWNLOADS,
  cosignEnv,
  cosignSignArgs,
  dockerConfigJson,
  type SignImagesRequest,
} from "@frostyard/cosign";
import { allowsPlainHttp, repositoryName } from "@frostyard/oci";
import { PUBLIC_GOOD, type CosignSignInputs } from "./inputs";
import { makeSecretDir } from "./secret-dir";
import type { CosignCliCredentials } from "./signer";

/** Pushes the signatures of one image (its root digest; `--recursive` covers the rest). */
export type SignaturePusher = NonNullable<SignImagesRequest["external"]>;

/**
 * `engine: cosign`: the pinned, checksummed cosign CLI pushes the signatures of the signer resolved
 * before; verification and promotion stay native. The key and password reach cosign as
 * COSIGN_PRIVATE_KEY/COSIGN_PASSWORD, registry credentials as a docker config.json in a private RUNNER_TEMP
 * directory that the post step removes.
 */
export async function cosignEngine(
  inputs: CosignSignInputs,
  credentials: CosignCliCredentials,
  logger: Logger,
): Promise<SignaturePusher> {
  const download = findDownload(
    COSIGN_DOWNLOADS,
    "cosign",
    inputs.cosignVersion,
    runnerArch(),
    "cosign-version",
  );
  const keyEnv = credentials.key;
  const actionsIdToken = credentials.actionsIdToken;

  const installed = await installTool(download, { logger });
  const cosign = installed.binaries.cosign!;
  logger.info(`cosign ${download.version} at ${cosign}${installed.cached ? " (tool cache)" : ""}`);

  let dockerConfig = process.env.DOCKER_CONFIG;
  if (inputs.registry && inputs.registryUsername && inputs.registryPassword) {
    dockerConfig = await makeSecretDir();
    const file = join(dockerConfig, "config.json");
    await writeFile(
      file,
      dockerConfigJson(inputs.registry, inputs.registryUsername, inputs.registryPassword),
      { mode: 0o600 },
    );
    await chmod(file, 0o600);
  }
  const env = cosignEnv({
    path: process.env.PATH ?? "/usr/bin:/bin",
    home: process.env.HOME ?? homedir(),
    ...(keyEnv ? { key: keyEnv } : {}),
    ...(actionsIdToken ? { actionsIdToken } : {}),
    ...(dockerConfig ? { dockerConfig } : {}),
  });
  const secrets = [keyEnv?.pem, keyEnv?.password, inputs.registryPassword, actionsIdToken?.token];
  const formats = inputs.format === "both" ? (["legacy", "bundle"] as const) : ([inputs.format] as const);

  return async (image) => {
    for (const format of formats) {
      const args = cosignSignArgs({
        version: download.version,
        reference: `${repositoryName(image.repository)}@${image.digest}`,
        format,
        keyless: keyEnv === undefined,
        recursive: inputs.recursive,
        annotations: inputs.annotations,
        ...(inputs.fulcioUrl !== PUBLIC_GOOD.fulcioUrl ? { fulcioUrl: inputs.fulcioUrl } : {}),
        ...(inputs.rekorUrl !== PUBLIC_GOOD.rekorUrl ? { rekorUrl: inputs.rekorUrl } : {}),
        insecureRegistry: allowsPlainHttp(image.repository.registry, inputs.insecureRegistries),
      });
      try {
        await execStreaming(cosign, args, { logger, env, secrets, onStdoutLine: (l) => logger.info(l) });
      } catch (error) {
        if (!(error instanceof ExecError)) throw error;
        throw new Error(`cosign sign of ${image.input} (${image.digest}) failed: ${error.message}`, {
          cause: error,
        });
      }
    }
  };
}
