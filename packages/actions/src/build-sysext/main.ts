import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { defaultImageVersion, newBuildReport, runMkosiBuild, type MkosiImage } from "@frostyard/mkosi";
import {
  diffSums,
  parseSha256Sums,
  publishSet,
  selectBase,
  selectSysextImages,
  type DissectCommand,
  type GpgSigner,
} from "@frostyard/sysext";
import { coreLogger, inputGetter, run, setOutput, writeSummary } from "..";
import { keepCacheStateForPost, saveCacheInPost } from "../build-mkosi/cache-post";
import { selectBuildCache } from "../build-mkosi/cache-store";
import { asSysextInputError } from "./errors";
import { parseInputs, secretValues } from "./inputs";
import { readPreviousSums } from "./publish-inputs";
import { loadSigner, removeGnupgHome } from "./signing";
import { outputsOf, summaryMarkdown, type SysextRun } from "./report";
import { uploadSet } from "./upload";

async function main(): Promise<void> {
  const logger = coreLogger;
  const inputs = parseInputs(inputGetter);
  for (const secret of secretValues(inputs)) logger.setSecret(secret);
  const imageVersion = inputs.build.imageVersion ?? defaultImageVersion(new Date());
  const report = newBuildReport(inputs.build, imageVersion);
  const result: SysextRun = {};
  let signer: GpgSigner | undefined;
  try {
    try {
      // Key and passphrase are proven before the build: a wrong one fails in seconds, not after an hour.
      signer = await loadSigner(inputs.gpgPrivateKey, inputs.gpgPassphrase, logger);
      // Read before an hour of building: a wrong path or URL is the user's to fix first.
      const previous = inputs.previousSha256Sums
        ? await readPreviousSums(inputs.previousSha256Sums)
        : undefined;
      let sysexts: MkosiImage[] = [];
      let base: MkosiImage | undefined;
      const { plan } = await runMkosiBuild(
        { ...inputs.build, imageVersion, workspace: process.env.GITHUB_WORKSPACE || process.cwd() },
        { logger, cache: selectBuildCache(), report, onCacheState: keepCacheStateForPost },
        {
          beforeBuild: (planned) => {
            sysexts = selectSysextImages(planned.images, inputs.images);
            base = selectBase(planned.images, inputs.base);
            for (const image of sysexts) {
              if (!image.manifestPath)
                logger.warning(
                  `${image.name} sets no ManifestFormat=json: its packages (and a key package's version) cannot be read; add ManifestFormat=json to its mkosi.conf`,
                );
            }
          },
        },
      );
      const dissect: DissectCommand = plan.sudo
        ? { command: "sudo", prefix: ["-n", "systemd-dissect"] }
        : { command: "systemd-dissect", prefix: [] };
      // The default destination is ours alone: cleared, so a rerun in the same work directory uploads no stale
      // files. A destination the user names is left as it is.
      const destination = inputs.destination ?? join(plan.outputDirectory, "sysupdate");
      if (!inputs.destination) await rm(destination, { recursive: true, force: true });
      const set = await report.timings.time("check and publish", () =>
        publishSet({
          sysexts,
          base: base!,
          imageVersion,
          ...(inputs.keyPackage ? { keyPackage: inputs.keyPackage } : {}),
          ...(inputs.revision ? { revision: inputs.revision } : {}),
          requiredPaths: inputs.requiredPaths,
          destination,
          compression: inputs.compression,
          ...(inputs.sysupdate ? { sysupdate: inputs.sysupdate } : {}),
          ...(signer ? { sign: signer.sign } : {}),
          dissect,
          logger,
          scratch: plan.workRoot,
        }),
      );
      result.set = set;
      if (previous)
        result.changes = diffSums(previous, parseSha256Sums(await readFile(set.sha256sums, "utf8")));
      if (inputs.upload)
        result.artifact = await report.timings.time("upload artifact", () =>
          uploadSet(set.destination, inputs.artifactName, logger),
        );
    } catch (error) {
      const mapped = asSysextInputError(error, inputs.keyPackage !== undefined);
      report.failed = mapped instanceof Error ? mapped.message : String(mapped);
      throw mapped;
    }
  } finally {
    await signer?.dispose();
    for (const [name, value] of Object.entries(outputsOf(report, result))) setOutput(name, value);
    await writeSummary(summaryMarkdown(report, result));
  }
}

await run(main, async () => {
  await removeGnupgHome();
  await saveCacheInPost();
});
