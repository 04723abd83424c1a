import { InputError, maskSecrets } from "@frostyard/kit";
import {
  attestImages,
  signImages,
  type AttestImagesReport,
  type ResolvedImage,
  type SignImagesReport,
} from "@frostyard/cosign";
import { RegistryClient } from "@frostyard/oci";
import { credentialsFor } from "../registry-login";
import { coreLogger, inputGetter, run, setOutput, writeSummary } from "..";
import { parseInputs } from "./inputs";
import { cosignEngine } from "./cosign-engine";
import { loadAttestations } from "./attest";
import {
  attestationsMarkdown,
  attestationsOutput,
  describeSigner,
  outputsOf,
  summaryMarkdown,
} from "./report";
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
  // Read before anything is signed: a missing or malformed predicate file pushes nothing.
  const attestations = inputs.attest ? await loadAttestations(inputs.attest) : [];

  const credentials = credentialsFor(inputs, logger);
  const client = new RegistryClient({ logger, credentials, insecureRegistries: inputs.insecureRegistries });

  const { signer, cli, attester } = await resolveSigner(inputs, logger, env);
  if (attestations.length > 0 && !attester) {
    throw new InputError(
      "attest",
      "needs a signer that signs in-process",
      "a key, or keyless with engine native",
    );
  }
  let attested: AttestImagesReport | undefined;
  const attest = async (images: readonly { image: ResolvedImage }[]) => {
    // Not a group of its own: signImages runs inside one, and the runner does not nest groups.
    attested = await attestImages({
      client,
      images: images.map(({ image }) => ({
        input: image.input,
        repository: image.repository,
        digest: image.digest,
      })),
      attestations,
      signer: attester!.signer,
      verifier: attester!.verifier,
      logger,
    });
    return attested.failure;
  };
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
        ...(attestations.length > 0 ? { beforePromote: attest } : {}),
      }),
  );
  for (const [name, value] of Object.entries(outputsOf(report))) setOutput(name, value);
  setOutput("attestations", attestationsOutput(attested));
  logger.info(`signed by ${describeSigner(signerText)}; verified: ${report.verified}`);
  await writeSummary(
    [summaryMarkdown(report, inputs, signerText), attestationsMarkdown(attested)]
      .filter(Boolean)
      .join("\n\n"),
  );
  if (report.failure) throw new Error(report.failure);
}

await run(main, () => removeSecretDir((m) => coreLogger.info(`post: ${m}`)));
