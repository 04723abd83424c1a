import { defaultImageVersion, saveBuildCache, type BuildCacheState } from "@frostyard/mkosi";
import { newPipelineReport, runPipeline } from "@frostyard/pipeline";
import { coreLogger, inputGetter, readState, run, saveState, setOutput, writeSummary } from "..";
import { selectBuildCache } from "../build-mkosi/cache-store";
import { PACKAGE_REQUEST_ENV, rootAwarePackager, servePackageRequest } from "../build-mkosi/package-as-root";
import { parseInputs, secretValues } from "./inputs";
import { outputsOf, summaryMarkdown } from "./report";

const CACHE_STATE = "cacheState";

async function main(): Promise<void> {
  const logger = coreLogger;
  for (const name of ["password", "registry-password"]) logger.setSecret(inputGetter(name));
  const options = parseInputs(inputGetter);
  for (const secret of secretValues(options, inputGetter)) logger.setSecret(secret);
  const imageVersion = options.build.imageVersion ?? defaultImageVersion(new Date());
  const report = newPipelineReport(options, imageVersion);
  try {
    await runPipeline(
      {
        ...options,
        build: { ...options.build, imageVersion, workspace: process.env.GITHUB_WORKSPACE || process.cwd() },
      },
      {
        logger,
        cache: selectBuildCache(),
        report,
        packager: rootAwarePackager(logger),
        onCacheState: (state) => saveState(CACHE_STATE, JSON.stringify(state)),
      },
    );
  } finally {
    for (const [name, value] of Object.entries(outputsOf(report))) setOutput(name, value);
    await writeSummary(summaryMarkdown(report));
  }
}

/** Saves mkosi's cache directory, also after a failed run. */
async function post(): Promise<void> {
  const state = readState(CACHE_STATE);
  if (!state) return;
  await saveBuildCache(JSON.parse(state) as BuildCacheState, {
    logger: coreLogger,
    cache: selectBuildCache(),
  });
}

const packageRequest = process.env[PACKAGE_REQUEST_ENV];
if (packageRequest) await servePackageRequest(packageRequest);
else await run(main, post);
