import type { Logger } from "@frostyard/kit";
import { formatReference, isIndexMediaType, isIndex, type ImageReference } from "@frostyard/oci";
import { registryClientFor } from "@frostyard/publish";
import { categoryFor, type ScanTarget } from "@frostyard/trivy";
import type { TrivyScanInputs } from "./inputs";

/** One scan to run: what Trivy gets, how it is named in the summary, and its code scanning category. */
export interface PlannedScan {
  target: ScanTarget;
  name: string;
  category: string;
  /** File name stem of its reports. */
  slug: string;
}

export interface ResolvedTargets {
  scans: PlannedScan[];
  /** The image's digest (a tag resolved), for the `digest` output. */
  digest?: string;
}

const slugOf = (platform?: string) => (platform ? `trivy-${platform.replaceAll("/", "-")}` : "trivy");

function plan(
  kind: ScanTarget["kind"],
  ref: string,
  display: string,
  platforms: readonly (string | undefined)[],
): PlannedScan[] {
  return platforms.map((platform) => ({
    target: { kind, ref, ...(platform ? { platform } : {}) },
    name: platform ? `${display} (${platform})` : display,
    category: categoryFor(display, platform),
    slug: slugOf(platform),
  }));
}

/**
 * The scans for the inputs: a registry image is scanned by digest (a tag resolved first), an index once
 * per platform (the `platform` input, else every platform it lists); a layout or rootfs as given.
 */
export async function resolveTargets(inputs: TrivyScanInputs, logger: Logger): Promise<ResolvedTargets> {
  const { target, platforms } = inputs;
  const wanted = platforms.length > 0 ? platforms : [undefined];
  if (target.kind !== "image") return { scans: plan(target.kind, target.path!, target.text, wanted) };
  const image = target.image!;
  const client = registryClientFor(inputs, logger, image.registry);
  const head = await client.headManifest(image);
  if (!head) throw new Error(`${formatReference(image)} was not found in its registry`);
  const byDigest: ImageReference = {
    registry: image.registry,
    repository: image.repository,
    digest: head.digest,
  };
  const ref = formatReference(byDigest);
  if (image.tag) logger.info(`${formatReference(image)} resolved to ${head.digest}`);
  let scanPlatforms: (string | undefined)[] = wanted;
  if (platforms.length === 0 && isIndexMediaType(head.mediaType)) {
    const fetched = await client.getManifest(byDigest);
    if (fetched && isIndex(fetched.manifest)) {
      scanPlatforms = fetched.manifest.manifests
        .map((m) => m.platform)
        .filter((p) => p && p.os !== "unknown")
        .map((p) => [p!.os, p!.architecture, p!.variant].filter(Boolean).join("/"));
    }
  }
  return { scans: plan("image", ref, ref, scanPlatforms), digest: head.digest };
}
