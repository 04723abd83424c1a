import { InputError, maskSecrets } from "@frostyard/kit";
import {
  IndexEntriesError,
  PlatformMismatchError,
  PlatformSyntaxError,
  publishIndex,
  registryClientFor,
} from "@frostyard/publish";
import { coreLogger, inputGetter, run, setJsonOutput, setOutput, writeSummary } from "..";
import { versionInputError } from "../publish-inputs";
import { parseInputs } from "./inputs";
import { summaryMarkdown } from "./report";

/** The library's errors about the given images or version, as the inputs the user set. */
function asInput(error: unknown): unknown {
  if (
    error instanceof PlatformSyntaxError ||
    error instanceof PlatformMismatchError ||
    error instanceof IndexEntriesError
  )
    return new InputError(
      "images",
      error.message,
      "one image per platform, each built for the platform it is given as",
    );
  return versionInputError(error);
}

async function main(): Promise<void> {
  const logger = coreLogger;
  maskSecrets(logger, [inputGetter("registry-password")]);
  const inputs = parseInputs(inputGetter);
  const published = await publishIndex({
    client: registryClientFor(inputs, logger, inputs.image.registry),
    target: inputs.image,
    version: inputs.version,
    images: inputs.images,
    tags: inputs.tags,
    overwriteVersion: inputs.overwriteVersion,
    logger,
  }).catch((error: unknown) => {
    throw asInput(error);
  });
  setOutput("digest", published.digest);
  setOutput("image", published.image);
  setJsonOutput("tags", published.tags);
  setJsonOutput("platforms", published.platforms);
  await writeSummary(summaryMarkdown(published));
}

await run(main);
