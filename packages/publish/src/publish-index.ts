import type { Logger } from "@frostyard/kit";
import {
  encodeManifest,
  formatReference,
  isIndex,
  OCI_IMAGE_INDEX,
  sha256Digest,
  type Descriptor,
  type ImageIndex,
  type ImageReference,
  type Platform,
  type RegistryClient,
  withTag,
} from "@frostyard/oci";
import { floatingTags } from "./floating-tags";
import { versionTagAction } from "./version-tag";

/** A platform as `os/architecture[/variant]` (`linux/arm64`, `linux/arm/v7`), the form `platforms` lists use. */
export type PlatformString = string;

/** One platform's image, already pushed by digest to the index's repository. */
export interface PlatformImage {
  platform: PlatformString;
  digest: string;
}

/** What one platform image turned out to be: its manifest's descriptor and its config's platform fields. */
export interface ResolvedPlatformImage {
  declared: Platform;
  manifest: Pick<Descriptor, "mediaType" | "digest" | "size">;
  config: { os?: unknown; architecture?: unknown; variant?: unknown };
}

/** A platform string that is not `os/architecture[/variant]`. */
export class PlatformSyntaxError extends Error {
  constructor(
    readonly platform: string,
    problem: string,
  ) {
    super(`platform "${platform}": ${problem}; expected os/architecture[/variant], e.g. linux/amd64`);
    this.name = "PlatformSyntaxError";
  }
}

/** An image's config says another platform than the one it was declared for: the index would lie. */
export class PlatformMismatchError extends Error {
  constructor(
    readonly digest: string,
    readonly declared: string,
    readonly actual: string,
  ) {
    super(
      `${digest} was given as ${declared}, but its config says ${actual}; an index entry must name the platform the image was built for`,
    );
    this.name = "PlatformMismatchError";
  }
}

/** The images given for an index are not usable as its entries (none, twice the same platform, an index). */
export class IndexEntriesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IndexEntriesError";
  }
}

const PLATFORM_PART = /^[a-z0-9][a-z0-9._-]*$/;

export function parsePlatform(platform: PlatformString): Platform {
  const parts = platform.trim().split("/");
  if (parts.length < 2 || parts.length > 3) {
    throw new PlatformSyntaxError(platform, `has ${parts.length} part${parts.length === 1 ? "" : "s"}`);
  }
  const bad = parts.find((part) => !PLATFORM_PART.test(part));
  if (bad !== undefined) throw new PlatformSyntaxError(platform, `"${bad}" is not a lowercase name`);
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(platform: Platform): PlatformString {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

// arm64 images are v8 unless they say otherwise (containerd and containers/image normalise the same way),
// so `linux/arm64` and `linux/arm64/v8` are one platform.
function variantOf(platform: { architecture: string; variant?: string }): string | undefined {
  if (platform.architecture === "arm64" && (platform.variant === undefined || platform.variant === "v8")) {
    return undefined;
  }
  return platform.variant;
}

function platformKey(platform: Platform): string {
  return formatPlatform({ ...platform, variant: variantOf(platform) });
}

/**
 * The platform an index entry gets: the config's own os, architecture and variant, which must be the
 * declared ones (a declared platform without a variant accepts the config's variant).
 */
export function entryPlatform(image: ResolvedPlatformImage): Platform {
  const { os, architecture, variant } = image.config;
  const declared = formatPlatform(image.declared);
  if (typeof os !== "string" || typeof architecture !== "string" || os === "" || architecture === "") {
    throw new PlatformMismatchError(image.manifest.digest, declared, "no os/architecture");
  }
  const actual: Platform =
    typeof variant === "string" && variant !== "" ? { os, architecture, variant } : { os, architecture };
  const sameVariant = image.declared.variant === undefined || variantOf(image.declared) === variantOf(actual);
  if (
    actual.os !== image.declared.os ||
    actual.architecture !== image.declared.architecture ||
    !sameVariant
  ) {
    throw new PlatformMismatchError(image.manifest.digest, declared, formatPlatform(actual));
  }
  return actual;
}

/**
 * The OCI image index over per-platform images, in the order given (a registry keeps it byte for byte,
 * so the same images in the same order always make the same index digest). Refuses no images, one
 * platform twice, and a platform that is not the config's.
 */
export function imageIndexFor(
  images: readonly ResolvedPlatformImage[],
  annotations?: Record<string, string>,
): ImageIndex {
  if (images.length === 0) throw new IndexEntriesError("an image index needs at least one platform image");
  const seen = new Map<string, string>();
  const manifests: Descriptor[] = images.map((image) => {
    const platform = entryPlatform(image);
    const key = platformKey(platform);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new IndexEntriesError(
        `${image.manifest.digest} and ${other} are both ${key}; an index holds one image per platform`,
      );
    }
    seen.set(key, image.manifest.digest);
    const { mediaType, digest, size } = image.manifest;
    return { mediaType, digest, size, platform };
  });
  const index: ImageIndex = { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests };
  if (annotations && Object.keys(annotations).length > 0) index.annotations = { ...annotations };
  return index;
}

export interface PublishIndexOptions {
  client: RegistryClient;
  /** The repository holding every platform image; the index is pushed there too. */
  target: ImageReference;
  /** The immutable version tag the index is pushed by. */
  version: string;
  images: readonly PlatformImage[];
  /** Tags besides the version (floating ones are warned about, as in publishImage). */
  tags?: readonly string[];
  annotations?: Record<string, string>;
  /** Move the version tag even when it names another manifest (default: refuse). */
  overwriteVersion?: boolean;
  logger: Logger;
}

export interface PublishedIndex {
  /** `<registry>/<repository>`. */
  repository: string;
  digest: string;
  /** `<registry>/<repository>@<digest>`. */
  image: string;
  tags: string[];
  /** Each entry as pushed: its platform (`linux/arm64`) and manifest digest. */
  platforms: { platform: PlatformString; digest: string }[];
}

async function resolvePlatformImage(
  client: RegistryClient,
  target: ImageReference,
  image: PlatformImage,
): Promise<ResolvedPlatformImage> {
  const declared = parsePlatform(image.platform);
  const ref = { registry: target.registry, repository: target.repository, digest: image.digest };
  const fetched = await client.getManifest(ref);
  if (!fetched) {
    throw new IndexEntriesError(
      `${formatReference(ref)} (${image.platform}) is not in the registry; push each platform's image before its index`,
    );
  }
  if (isIndex(fetched.manifest)) {
    throw new IndexEntriesError(
      `${formatReference(ref)} (${image.platform}) is an image index itself; an index entry must be one platform's image`,
    );
  }
  const config = JSON.parse((await client.getBlob(ref, fetched.manifest.config.digest)).toString("utf8"));
  return {
    declared,
    manifest: { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.size },
    config: typeof config === "object" && config !== null ? config : {},
  };
}

/**
 * Publishes an OCI image index over platform images already pushed by digest to one repository: each
 * image's config must say the platform it is given for, the version tag is immutable (as in
 * publishImage), and the registry must answer the tag with the index's own digest afterwards.
 */
export async function publishIndex(options: PublishIndexOptions): Promise<PublishedIndex> {
  const { client, target, version, logger } = options;
  const extra = options.tags ?? [];
  const floating = floatingTags(extra);
  if (floating.length > 0) {
    logger.warning(
      `tags ${floating.join(", ")}: floating tags move to this index when it is pushed, before any signing or verification; leave them to the promotion after verification`,
    );
  }
  const resolved = await Promise.all(
    options.images.map((image) => resolvePlatformImage(client, target, image)),
  );
  const index = imageIndexFor(resolved, options.annotations);
  const bytes = encodeManifest(index);
  const digest = sha256Digest(bytes);

  const versionRef = formatReference(withTag(target, version));
  const existing = await client.headManifest(withTag(target, version));
  const action = versionTagAction(versionRef, existing?.digest, digest, options.overwriteVersion ?? false);
  if (action === "same") logger.info(`${versionRef} already holds ${digest}`);
  if (action === "overwrite")
    logger.warning(`${versionRef} held ${existing?.digest}; overwrite-version moves it to ${digest}`);

  const tags = [...new Set([version, ...extra])];
  for (const tag of tags) {
    const pushed = await client.putManifest(withTag(target, tag), bytes, OCI_IMAGE_INDEX);
    if (pushed !== digest) throw new Error(`the registry took ${pushed} for ${tag}, not the index ${digest}`);
  }
  const answered = await client.headManifest(withTag(target, version));
  if (answered?.digest !== digest) {
    throw new Error(
      `the registry holds ${answered?.digest ?? "nothing"} for ${versionRef}, not the index ${digest}`,
    );
  }
  const repository = `${target.registry}/${target.repository}`;
  logger.info(`${repository}:${version} is the index ${digest} over ${resolved.length} platform(s)`);
  return {
    repository,
    digest,
    image: `${repository}@${digest}`,
    tags,
    platforms: index.manifests.map((entry) => ({
      platform: formatPlatform(entry.platform as Platform),
      digest: entry.digest,
    })),
  };
}
