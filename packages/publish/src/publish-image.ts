import type { Logger, Timings } from "@frostyard/kit";
import { formatReference, pushLayout, type ImageReference, type RegistryClient } from "@frostyard/oci";
import { floatingTags } from "./floating-tags";
import { versionTagAction } from "./version-tag";

export interface PublishImageOptions {
  client: RegistryClient;
  /** The OCI layout holding the image, its manifest recorded under `version` (its ref name). */
  layout: string;
  /** The manifest digest the layout holds under `version`: what the registry must end up holding. */
  digest: string;
  /** Repository to push to (its tag or digest is ignored). */
  target: ImageReference;
  /** The immutable version tag (and the layout's ref name unless `refName` says otherwise). */
  version: string;
  /** The layout's ref name of the image, when it is not the version tag. */
  refName?: string;
  /** Tags besides the version. */
  tags: readonly string[];
  /** Move the version tag even when it names another image (default: refuse). */
  overwriteVersion: boolean;
  logger: Logger;
  /** The push is timed under "push" when given. */
  timings?: Timings;
}

export interface PublishedImage {
  /** `<registry>/<repository>`. */
  repository: string;
  digest: string;
  /** `<registry>/<repository>@<digest>`. */
  image: string;
  tags: string[];
  uploadedBytes: number;
  skippedBlobs: number;
}

/**
 * Publishes an OCI layout's image: the version tag is checked first (immutable: refused when it names
 * another image), the blobs the registry lacks are pushed, the manifest is tagged, and the registry's digest
 * is compared with the layout's. Floating extra tags are warned about: they move before any signing.
 */
export async function publishImage(options: PublishImageOptions): Promise<PublishedImage> {
  const { client, target, version, digest, logger } = options;
  const tags = [...new Set([version, ...options.tags])];
  const floating = floatingTags(options.tags);
  if (floating.length > 0) {
    logger.warning(
      `tags ${floating.join(", ")}: floating tags move to this image when it is pushed, before any signing or verification; leave them to the promotion after verification (promote-tags) unless that is what you want`,
    );
  }
  const versionRef = formatReference({ ...target, tag: version });
  const existing = await client.headManifest({ ...target, tag: version });
  const action = versionTagAction(versionRef, existing?.digest, digest, options.overwriteVersion);
  if (action === "same") logger.info(`${versionRef} already holds ${digest}`);
  if (action === "overwrite")
    logger.warning(`${versionRef} held ${existing?.digest}; overwrite-version moves it to ${digest}`);

  const push = () =>
    logger.group(`push ${formatReference(target)}`, () =>
      pushLayout({
        client,
        layout: options.layout,
        refName: options.refName ?? version,
        target,
        tags,
        logger,
      }),
    );
  const pushed = await (options.timings ? options.timings.time("push", push) : push());
  if (pushed.digest !== digest) {
    throw new Error(`the registry holds ${pushed.digest} for ${versionRef}, not the built ${digest}`);
  }
  const repository = `${target.registry}/${target.repository}`;
  return {
    repository,
    digest: pushed.digest,
    image: `${repository}@${pushed.digest}`,
    tags: pushed.tags,
    uploadedBytes: pushed.uploadedBytes,
    skippedBlobs: pushed.skippedBlobs,
  };
}
