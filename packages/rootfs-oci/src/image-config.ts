import type { Descriptor, ImageManifest } from "@frostyard/oci";
import { OCI_IMAGE_CONFIG, OCI_IMAGE_MANIFEST, OCI_LAYER_TAR_GZIP, OCI_LAYER_TAR_ZSTD } from "@frostyard/oci";
import type { Compression } from "./compress";
import type { LayerPlan } from "./plan";

export const BOOTC_LABEL = "containers.bootc";

/** SOURCE_DATE_EPOCH seconds → the RFC 3339 `created` OCI uses (`2024-01-02T03:04:05Z`). */
export function createdFromEpoch(sourceDateEpoch: number): string {
  return new Date(sourceDateEpoch * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** Keys sorted, so the config's bytes do not depend on the order labels were given in. */
export function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What a layer's history entry says made it. */
export function layerHistoryText(layer: LayerPlan): string {
  switch (layer.kind) {
    case "all":
      return `rootfs-oci: the whole rootfs (${layer.paths.length} paths)`;
    case "skeleton":
      return `rootfs-oci: directories (${layer.paths.length})`;
    case "package":
      return `rootfs-oci: package ${layer.packages[0]}`;
    case "bin":
      return `rootfs-oci: bin ${layer.bin} (${layer.packages.length} packages)`;
    case "unowned":
      return `rootfs-oci: files no package owns (${layer.paths.length})`;
    case "package-database":
      return `rootfs-oci: the package database (${layer.paths.length} files)`;
  }
}

export interface ImageConfigInput {
  architecture: string;
  variant?: string;
  sourceDateEpoch: number;
  labels: Record<string, string>;
  bootable: boolean;
  layers: readonly { plan: LayerPlan; diffId: string }[];
}

/** The image config (image-spec config.md) for the packaged layers. */
export function imageConfig(input: ImageConfigInput): Record<string, unknown> {
  const created = createdFromEpoch(input.sourceDateEpoch);
  const labels = sortedRecord({ ...input.labels, ...(input.bootable ? { [BOOTC_LABEL]: "1" } : {}) });
  return {
    created,
    architecture: input.architecture,
    ...(input.variant ? { variant: input.variant } : {}),
    os: "linux",
    config: Object.keys(labels).length > 0 ? { Labels: labels } : {},
    rootfs: { type: "layers", diff_ids: input.layers.map((l) => l.diffId) },
    history: input.layers.map((l) => ({ created, created_by: layerHistoryText(l.plan) })),
  };
}

export function layerMediaType(compression: Compression): string {
  return compression === "zstd" ? OCI_LAYER_TAR_ZSTD : OCI_LAYER_TAR_GZIP;
}

export function imageManifest(input: {
  config: Descriptor;
  layers: readonly Descriptor[];
  annotations: Record<string, string>;
}): ImageManifest {
  const annotations = sortedRecord(input.annotations);
  return {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST,
    config: { mediaType: OCI_IMAGE_CONFIG, digest: input.config.digest, size: input.config.size },
    layers: input.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}
