import type { Logger } from "@frostyard/kit";
import { formatReference, type ImageReference, type RegistryClient } from "@frostyard/oci";
import { previousFromRegistry, type PreviousLayers } from "@frostyard/rootfs-oci";
import { isFloatingTag } from "./floating-tags";

/** A per-platform tag's suffix, as the reusable workflow writes `<version>-<arch>` (GOARCH names). */
const PLATFORM_SUFFIX = /-(amd64|arm64|arm|386|ppc64le|s390x|riscv64|loong64|mips64le)$/;
const platformSuffix = (tag: string) => PLATFORM_SUFFIX.exec(tag)?.[1];

/**
 * The tag a new version follows: the greatest of the repository's version tags that sorts before it
 * (numbers compared as numbers: 1.10 after 1.9, 20261204… after 20261203…), among the tags of the same
 * platform: `2.0-arm64` follows `1.0-arm64`, never `2.0-amd64` (another architecture shares no layer and
 * would make the update cost meaningless), and a plain version follows plain versions. Floating names and
 * cosign's `sha256-<hex>.sig|.att|.sbom` tags are not versions.
 */
export function predecessorTag(tags: readonly string[], version: string): string | undefined {
  const compare = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
  const suffix = platformSuffix(version);
  const versions = tags.filter(
    (t) =>
      t !== version && !isFloatingTag(t) && !/^sha256-[0-9a-f]{64}/.test(t) && platformSuffix(t) === suffix,
  );
  return versions
    .filter((t) => compare(t, version) < 0)
    .sort(compare)
    .at(-1);
}

/**
 * The image a new version of `target` is most likely to share layers with: the version tag's predecessor,
 * else `latest`. Undefined when the repository has neither, or cannot be read: taking layers over is an
 * optimisation, never a reason to fail a build.
 */
export async function previousInRegistry(
  client: RegistryClient,
  target: ImageReference,
  version: string,
  logger: Logger,
  platform?: { architecture: string; variant?: string },
): Promise<PreviousLayers | undefined> {
  try {
    const tags = await client.listTags(target);
    const tag = predecessorTag(tags, version) ?? (tags.includes("latest") ? "latest" : undefined);
    if (!tag) return undefined;
    return await previousFromRegistry(client, { ...target, tag, digest: undefined }, platform);
  } catch (error) {
    logger.warning(
      `Could not read ${formatReference(target)} for a previous image to take layers over from (${(error as Error).message}); a previous image kept in the build cache is used instead, if there is one`,
    );
    return undefined;
  }
}

/** The `previous-image` input: found automatically, turned off, or a given reference. */
export type PreviousImageChoice =
  { kind: "auto" } | { kind: "none" } | { kind: "reference"; ref: ImageReference };

/**
 * Where a build looks for its previous image in a registry: the given reference, or (automatically, when it
 * pushes) the version tag's predecessor in the target repository. Undefined: nowhere (the build cache's
 * kept image is the build's own fallback).
 */
export function previousImageFinder(
  choice: PreviousImageChoice,
  context: {
    client: RegistryClient;
    target?: ImageReference;
    version: string;
    pushing: boolean;
    logger: Logger;
  },
): (() => Promise<PreviousLayers | undefined>) | undefined {
  const { client, target, version, logger } = context;
  if (choice.kind === "none") return undefined;
  if (choice.kind === "reference") {
    return async () => {
      const found = await previousFromRegistry(client, choice.ref).catch((error: unknown) => {
        logger.warning(
          `previous-image ${formatReference(choice.ref)} cannot be read: ${(error as Error).message}`,
        );
        return undefined;
      });
      if (!found)
        logger.warning(
          `previous-image ${formatReference(choice.ref)} does not exist; every layer is compressed`,
        );
      return found;
    };
  }
  if (!context.pushing || !target) return undefined;
  return () => previousInRegistry(client, target, version, logger);
}
