import { maskSecrets } from "@frostyard/kit";
import { signImages, type SignImagesReport } from "@frostyard/cosign";
import { RegistryClient } from "@frostyard/oci";
import { credentialsFor } from "../registry-login";
import { coreLogger, inputGetter, run, setOutput, writeSummary } from "..";
import { parseInputs } from "./inputs";
import { cosignEngine } from "./cosign-engine";
import { describeSigner, outputsOf, summaryMarkdown } from "./report";
import { removeSecretDir } from "./secret-dir";
import { resolveSigner } from "./signer";

async function main(): Promise<void> {
  const logger = coreLogger;
  const env = process.env;
  // Masked before anything can print them (parsing may fail): the inputs, and an inline key. A key read
  // from a file or env:// is masked where it is loaded (loadSigningKey).
  const keyInput = inputGetter("key");
  maskSecrets(logger, [
    inputGetter("password"),
    inputGetter("registry-password"),
    keyInput.includes("-----BEGIN") ? keyInput : undefined,
  ]);
  const inputs = parseInputs(inputGetter);

  const credentials = credentialsFor(inputs, logger);
  const client = new RegistryClient({ logger, credentials, insecureRegistries: inputs.insecureRegistries });

  const { signer, cli } = await resolveSigner(inputs, logger, env);
  const push = inputs.engine === "cosign" ? await cosignEngine(inputs, cli, logger) : undefined;
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
        ...(push ? { external: push } : {}),
      }),
  );
  for (const [name, value] of Object.entries(outputsOf(report))) setOutput(name, value);
  logger.info(`signed by ${describeSigner(signerText)}; verified: ${report.verified}`);
  await writeSummary(summaryMarkdown(report, inputs, signerText));
  if (report.failure) throw new Error(report.failure);
}

await run(main, () => removeSecretDir((m) => coreLogger.info(`post: ${m}`)));
