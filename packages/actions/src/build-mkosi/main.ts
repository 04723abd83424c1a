import {
  buildImage,
  defaultImageVersion,
  newBuildReport,
  saveBuildCache,
  type BuildCacheState,
  type BuildImageResult,
} from "@frostyard/mkosi";
import {
  coreLogger,
  inputGetter,
  readState,
  run,
  saveState,
  setJsonOutput,
  setOutput,
  writeSummary,
} from "..";
import { selectBuildCache } from "./cache-store";
import { PACKAGE_REQUEST_ENV, rootAwarePackager, servePackageRequest } from "./package-as-root";
import { parseInputs, secretValues } from "./inputs";
import { cacheOutput, savedCacheMarkdown, summaryMarkdown } from "./report";

const CACHE_STATE = "cacheState";

/** Outputs as far as the build got: a failed push still names the packaged layout and its digest. */
function setOutputs(result: BuildImageResult): void {
  setOutput("rootfs", result.rootfs);
  setOutput("mkosi-manifest", result.mkosiManifest);
  setOutput("digest", result.digest ?? "");
  setOutput("image", result.pushedImage ?? "");
  setJsonOutput("tags", result.tags);
  setOutput("oci-layout", result.ociLayout ?? "");
  setJsonOutput("layers", result.layers);
  setOutput("cache", cacheOutput(result.report.cache));
}

async function main(): Promise<void> {
  const logger = coreLogger;
  const inputs = parseInputs(inputGetter);
  for (const secret of secretValues(inputs)) logger.setSecret(secret);
  const imageVersion = inputs.imageVersion ?? defaultImageVersion(new Date());
  const report = newBuildReport(inputs, imageVersion);
  setOutput("image-version", imageVersion);
  try {
    await buildImage(
      { ...inputs, imageVersion, workspace: process.env.GITHUB_WORKSPACE || process.cwd() },
      {
        logger,
        cache: selectBuildCache(),
        report,
        packager: rootAwarePackager(logger),
        onCacheState: (state) => saveState(CACHE_STATE, JSON.stringify(state)),
        onProgress: setOutputs,
      },
    );
  } finally {
    await writeSummary(summaryMarkdown(report));
  }
}

/** Saves mkosi's cache directory, also after a failed build. */
async function post(): Promise<void> {
  const raw = readState(CACHE_STATE);
  if (!raw) return;
  const state = JSON.parse(raw) as BuildCacheState;
  let savedBytes: number | undefined;
  const outcome = await saveBuildCache(state, {
    logger: coreLogger,
    cache: selectBuildCache(),
    onSaved: (bytes) => (savedBytes = bytes),
  });
  // A blank line first: the main step's summary ends in a table, which would otherwise swallow this line.
  await writeSummary(`\n${savedCacheMarkdown(state.key, outcome, savedBytes)}`);
}

const packageRequest = process.env[PACKAGE_REQUEST_ENV];
if (packageRequest) await servePackageRequest(packageRequest);
else await run(main, post);
