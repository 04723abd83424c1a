import { maskSecrets } from "@frostyard/kit";
import {
  describeKeyOrigin,
  keySigner,
  loadCosignPrivateKey,
  resolveKeySource,
  signImages,
  type ImageSigner,
  type SignImagesReport,
} from "@frostyard/cosign";
import { RegistryClient } from "@frostyard/oci";
import { credentialsFor } from "../registry-login";
import { coreLogger, inputGetter, run, setOutput, writeSummary } from "..";
import { parseInputs, type CosignSignInputs } from "./inputs";
import { prepareCosignEngine } from "./cosign-cli";
import { describeSigner, outputsOf, summaryMarkdown } from "./report";
import { removeSecretDir } from "./secret-dir";

async function makeSigner(inputs: CosignSignInputs): Promise<ImageSigner> {
  const logger = coreLogger;
  if (inputs.key === undefined) return (await import("./keyless")).keylessSigner(inputs, logger);
  const source = await resolveKeySource(inputs.key, process.env, "key");
  maskSecrets(logger, [source.pem]);
  const key = await loadCosignPrivateKey(source, inputs.password, { key: "key", password: "password" });
  logger.info(`signing key: ${describeKeyOrigin(source.origin)}, ECDSA P-256, sha256:${key.fingerprint}`);
  return keySigner(key);
}

async function main(): Promise<void> {
  const logger = coreLogger;
  const env = process.env;
  // Masked before anything can print them: inputs, and the key itself when it is given inline or by env.
  const keyInput = inputGetter("key");
  maskSecrets(logger, [
    inputGetter("password"),
    inputGetter("registry-password"),
    keyInput.includes("-----BEGIN") ? keyInput : undefined,
  ]);
  const inputs = parseInputs(inputGetter);
  if (inputs.key?.startsWith("env://")) maskSecrets(logger, [env[inputs.key.slice("env://".length)]]);

  const credentials = credentialsFor(inputs, logger);
  const client = new RegistryClient({ logger, credentials, insecureRegistries: inputs.insecureRegistries });

  const engine = inputs.engine === "cosign" ? await prepareCosignEngine(inputs, logger) : undefined;
  const signer = engine?.signer ?? (await makeSigner(inputs));
  const signerText = signer.identity();
  const report: SignImagesReport = await logger.group(
    `cosign-sign: ${inputs.images.length} image(s), ${inputs.format}, engine ${inputs.engine}`,
    () =>
      signImages({
        client,
        images: inputs.images,
        signer,
        format: inputs.format,
        recursive: inputs.recursive,
        annotations: inputs.annotations,
        promoteTags: inputs.promoteTags,
        logger,
        ...(engine ? { external: engine.external } : {}),
      }),
  );
  for (const [name, value] of Object.entries(outputsOf(report))) setOutput(name, value);
  logger.info(`signed by ${describeSigner(signerText)}; verified: ${report.verified}`);
  await writeSummary(summaryMarkdown(report, inputs, signerText));
  if (report.failure) throw new Error(report.failure);
}

await run(main, () => removeSecretDir((m) => coreLogger.info(`post: ${m}`)));
