import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { serveLayout, type ImageReference, type RegistryClient } from "@frostyard/oci";
import { publishImage } from "@frostyard/publish";
import type { PipelineRun } from "./run-context";
import type { BuiltImage } from "./stage-build";
import { runStage } from "./stages";

/** Where the image now is, for signing, verification and promotion. */
export interface PushedImage {
  client: RegistryClient;
  target: ImageReference;
  /** `<registry>/<repository>`. */
  repository: string;
  digest: string;
}

/** A repository name the embedded registry accepts, from mkosi's ImageId. */
export function layoutRepositoryName(imageId: string | undefined): string {
  const name = (imageId ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return `frostyard/${name || "image"}`;
}

/**
 * Push: through the one publish path (immutable version tag, blobs, tags, digest check) to `image`, or,
 * when none is given, to an OCI layout directory served as a registry on loopback for the run.
 */
export async function pushStage(run: PipelineRun, built: BuiltImage): Promise<PushedImage> {
  const { options, report, logger } = run;
  const { client } = run;
  return runStage(run.timings, "push", async () => {
    let target: ImageReference;
    let registryLayout: string | undefined;
    if (options.image) {
      target = options.image;
    } else {
      registryLayout = resolve(
        options.registryLayout ?? join(report.build.workVolume ?? dirname(built.layout), "registry"),
      );
      await mkdir(registryLayout, { recursive: true });
      const repository = layoutRepositoryName(built.main.imageId);
      run.registry = await serveLayout({ layout: registryLayout, repository, logger });
      logger.info(
        `No image given: pushing to the OCI layout ${registryLayout}, served at ${run.registry.url}`,
      );
      target = { registry: run.registry.host, repository };
    }
    const published = await publishImage({
      client,
      layout: built.layout,
      digest: built.digest,
      target,
      version: run.imageVersion,
      tags: options.tags,
      overwriteVersion: options.overwriteVersion ?? false,
      logger,
    });
    report.pushed = {
      repository: published.repository,
      digest: published.digest,
      tags: published.tags,
      uploadedBytes: published.uploadedBytes,
      ...(registryLayout ? { registryLayout } : {}),
    };
    return { client, target, repository: published.repository, digest: published.digest };
  });
}
