import { buildImage, defaultImageVersion, newBuildReport } from "@frostyard/mkosi";
import { repositoryName } from "@frostyard/oci";
import {
  previousImageFinder,
  publishImage,
  registryClientFor,
  type PublishedImage,
} from "@frostyard/publish";
import { maskSecrets } from "@frostyard/kit";
import { coreLogger, inputGetter, run, setOutput, writeSummary } from "..";
import { withInputNames } from "../domain-errors";
import { keepCacheStateForPost, saveCacheInPost } from "./cache-post";
import { selectBuildCache } from "./cache-store";
import { parseInputs, secretValues } from "./inputs";
import { packageWorker, rootAwarePackager } from "./package-as-root";
import { outputsOf, summaryMarkdown } from "./report";

async function main(): Promise<void> {
  const logger = coreLogger;
  const inputs = parseInputs(inputGetter);
  maskSecrets(logger, secretValues(inputs));
  const {
    image,
    tags,
    push,
    registryUsername,
    registryPassword,
    overwriteVersion,
    previousImage,
    versionTag,
    ...build
  } = inputs;
  const imageVersion = build.imageVersion ?? defaultImageVersion(new Date());
  const pushTag = versionTag ?? imageVersion;
  const report = newBuildReport(build, imageVersion);
  const allTags = [...new Set([pushTag, ...tags])];
  let pushed: PublishedImage | undefined;
  const client = registryClientFor({ registryUsername, registryPassword }, logger, image?.registry);
  try {
    await withInputNames(
      async () => {
        await buildImage(
          {
            ...build,
            imageVersion,
            workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
            package: image !== undefined,
            ...(image ? { title: repositoryName(image).split("/").pop() } : {}),
            reuseLayers: previousImage.kind !== "none",
          },
          {
            logger,
            cache: selectBuildCache(),
            report,
            packager: rootAwarePackager(logger),
            onCacheState: keepCacheStateForPost,
            previousImage: previousImageFinder(previousImage, {
              client,
              ...(image ? { target: image } : {}),
              version: pushTag,
              pushing: push,
              logger,
            }),
          },
        );
        if (!push || !image || !report.ociLayout || !report.digest) return;
        pushed = await publishImage({
          client,
          layout: report.ociLayout,
          digest: report.digest,
          target: image,
          version: pushTag,
          refName: imageVersion,
          tags,
          overwriteVersion,
          logger,
          timings: report.timings,
        });
      },
      (message) => (report.failed = message),
    );
  } finally {
    for (const [name, value] of Object.entries(outputsOf(report, allTags, pushed))) setOutput(name, value);
    await writeSummary(summaryMarkdown(report, pushed));
  }
}

await run(main, saveCacheInPost, packageWorker);
