import { DefaultArtifactClient } from "@actions/artifact";
import { uploadInParts, UploadPlanError, type UploadReport } from "@frostyard/disk";
import { InputError, type Logger } from "@frostyard/kit";
import { artifactServiceMissing } from "../build-sysext/upload";

/**
 * The output directory as workflow artifacts, disks over `partSize` split (packages/disk/src/artifact-plan.ts
 * says why and how), or the reason nothing went up.
 */
export async function uploadDisks(
  directory: string,
  artifactName: string,
  partSize: number,
  logger: Logger,
): Promise<UploadReport | { skipped: string }> {
  const missing = artifactServiceMissing();
  if (missing) {
    const say = logger.notice ? logger.notice.bind(logger) : logger.info.bind(logger);
    say(`Artifact upload skipped: ${missing}`);
    return { skipped: missing };
  }
  const client = new DefaultArtifactClient();
  try {
    return await uploadInParts({
      directory,
      artifactName,
      partSize,
      logger,
      upload: async (name, files, root) => {
        const result = await client.uploadArtifact(name, files, root);
        return { id: result.id ?? 0, size: result.size ?? 0 };
      },
    });
  } catch (error) {
    if (error instanceof UploadPlanError)
      throw new InputError(
        "artifact-part-size",
        error.message,
        "a part size that needs at most 500 artifacts, or 0 for one artifact of whole files",
      );
    throw error;
  }
}
