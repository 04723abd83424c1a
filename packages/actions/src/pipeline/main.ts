import { defaultImageVersion } from "@frostyard/mkosi";
import { newPipelineReport, runPipeline } from "@frostyard/pipeline";
import { maskSecrets } from "@frostyard/kit";
import { coreLogger, inputGetter, run, setOutput, writeSummary } from "..";
import { withInputNames } from "../domain-errors";
import { keepCacheStateForPost, saveCacheInPost } from "../build-mkosi/cache-post";
import { selectBuildCache } from "../build-mkosi/cache-store";
import { packageWorker, rootAwarePackager } from "../build-mkosi/package-as-root";
import { parseInputs, secretValues } from "./inputs";
import { outputsOf, summaryMarkdown } from "./report";

async function main(): Promise<void> {
  const logger = coreLogger;
  // Before parsing: a refused value must not be echoed by the error that refuses it.
  maskSecrets(logger, [inputGetter("password"), inputGetter("registry-password")]);
  const options = parseInputs(inputGetter);
  // Every line of a multi-line secret (an inline PEM key), since the runner masks line by line.
  maskSecrets(logger, secretValues(options, inputGetter));
  const imageVersion = options.build.imageVersion ?? defaultImageVersion(new Date());
  const report = newPipelineReport(options, imageVersion);
  try {
    await withInputNames(
      () =>
        runPipeline(
          {
            ...options,
            build: {
              ...options.build,
              imageVersion,
              workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
            },
          },
          {
            logger,
            cache: selectBuildCache(),
            report,
            packager: rootAwarePackager(logger),
            onCacheState: keepCacheStateForPost,
          },
        ),
      (message) => (report.failed = { ...report.failed, message }),
    );
  } finally {
    for (const [name, value] of Object.entries(outputsOf(report))) setOutput(name, value);
    await writeSummary(summaryMarkdown(report));
  }
}

await run(main, saveCacheInPost, packageWorker);
