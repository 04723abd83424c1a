import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { homedir } from "node:os";
import {
  ExecError,
  execStreaming,
  findDownload,
  installTool,
  maskSecrets,
  runnerArch,
  type Logger,
} from "@frostyard/kit";
import {
  COSIGN_DOWNLOADS,
  cosignEnv,
  cosignSignArgs,
  dockerConfigJson,
  keySigner,
  loadCosignPrivateKey,
  resolveKeySource,
  type ImageSigner,
  type SignImagesRequest,
} from "@frostyard/cosign";
import { allowsPlainHttp, repositoryName } from "@frostyard/oci";
import { PUBLIC_GOOD, type CosignSignInputs } from "./inputs";
import { makeSecretDir } from "./secret-dir";

export interface CosignEngine {
  signer: ImageSigner;
  external: NonNullable<SignImagesRequest["external"]>;
}

/**
 * `engine: cosign`: the pinned, checksummed cosign CLI pushes the signatures; verification and promotion
 * stay native. The key and password reach cosign as COSIGN_PRIVATE_KEY/COSIGN_PASSWORD, registry credentials
 * as a docker config.json in a private RUNNER_TEMP directory that the post step removes.
 */
export async function prepareCosignEngine(inputs: CosignSignInputs, logger: Logger): Promise<CosignEngine> {
  const download = findDownload(
    COSIGN_DOWNLOADS,
    "cosign",
    inputs.cosignVersion,
    runnerArch(),
    "cosign-version",
  );
  let keyEnv: { pem: string; password: string } | undefined;
  let actionsIdToken: { url: string; token: string } | undefined;
  let signer: ImageSigner;
  if (inputs.key !== undefined) {
    const source = await resolveKeySource(inputs.key, process.env, "key");
    maskSecrets(logger, [source.pem]);
    // Decrypted here too: a wrong password fails before cosign runs, and the public key verifies afterwards.
    signer = keySigner(
      await loadCosignPrivateKey(source, inputs.password, { key: "key", password: "password" }),
    );
    keyEnv = { pem: source.pem, password: inputs.password };
  } else {
    const { expectedIdentity, fetchActionsIdToken, jwtClaims, keylessVerifier, loadTrustedRoot } =
      await import("./keyless");
    const idToken = await fetchActionsIdToken(process.env);
    logger.setSecret(idToken);
    const claims = jwtClaims(idToken);
    const identity = inputs.certificateIdentity ?? expectedIdentity(claims);
    const verifier = keylessVerifier(await loadTrustedRoot(inputs.trustedRoot, logger), {
      ...(inputs.certificateIdentityRegexp !== undefined
        ? { identityRegexp: inputs.certificateIdentityRegexp }
        : { identity }),
      issuer: inputs.certificateOidcIssuer,
    });
    const unused = async (): Promise<never> => {
      throw new Error("with engine cosign, the cosign CLI signs");
    };
    signer = {
      identity: () => ({
        kind: "keyless",
        identity,
        issuer: String(claims.iss ?? inputs.certificateOidcIssuer),
      }),
      legacy: unused,
      bundle: unused,
      verifier: () => verifier,
    };
    actionsIdToken = {
      url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "",
      token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "",
    };
  }

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

  const external: CosignEngine["external"] = async (image) => {
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
  return { signer, external };
}
