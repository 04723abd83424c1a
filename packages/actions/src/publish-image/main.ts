import { resolve } from "node:path";
import { maskSecrets } from "@frostyard/kit";
import { readIndex } from "@frostyard/oci";
import { publishImage, registryClientFor } from "@frostyard/publish";
import { coreLogger, inputGetter, run, setJsonOutput, setOutput, writeSummary } from "..";
import { versionInputError } from "../publish-inputs";
import { parseInputs } from "./inputs";
import { chooseManifest, unreadableLayout } from "./layout-manifest";
import { summaryMarkdown } from "./report";

async function main(): Promise<void> {
  const logger = coreLogger;
  maskSecrets(logger, [inputGetter("registry-password")]);
  const inputs = parseInputs(inputGetter);
  // As every action's paths: relative to the workspace.
  const layout = resolve(process.env.GITHUB_WORKSPACE || process.cwd(), inputs.ociLayout);
  const index = await readIndex(layout).catch((error: unknown) => {
    throw unreadableLayout(inputs.ociLayout, error);
  });
  const chosen = chooseManifest(index, inputs.ociLayout, inputs.refName);
  const published = await publishImage({
    client: registryClientFor(inputs, logger, inputs.image.registry),
    layout,
    digest: chosen.digest,
    target: inputs.image,
    version: inputs.version,
    refName: chosen.refName,
    tags: inputs.tags,
    overwriteVersion: inputs.overwriteVersion,
    logger,
  }).catch((error: unknown) => {
    throw versionInputError(error);
  });
  setOutput("digest", published.digest);
  setOutput("image", published.image);
  setJsonOutput("tags", published.tags);
  await writeSummary(summaryMarkdown(published, inputs.ociLayout, chosen.refName));
}

await run(main);
