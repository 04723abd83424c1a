import { copyFile, link } from "node:fs/promises";
import {
  addManifest,
  blobPath,
  initLayout,
  writeBlob,
  formatReference,
  isImageManifest,
  isIndex,
  parseManifest,
  readBlob,
  resolve as resolveRef,
  type Descriptor,
  type ImageManifest,
  type ImageReference,
  type RegistryClient,
} from "@frostyard/oci";

/**
 * An earlier image of the same project: its compressed layers by the digest of their uncompressed tar
 * (diff_id). Our layers are reproducible, so a layer whose tar hashes to a diff_id listed here is the same
 * layer, and its compressed blob (also already in the registry) is taken over instead of made again.
 */
export interface PreviousLayers {
  /** What it is, for the log and the summary: a reference or a layout path. */
  source: string;
  /** The earlier manifest's digest. */
  digest: string;
  /** Its layers in order, with the packages they held when known (the report's update cost uses them). */
  layers: readonly Descriptor[];
  byDiffId: ReadonlyMap<string, Descriptor>;
  /** Puts a taken-over blob into a layout that lacks it (copied from a layout, or downloaded). */
  fetchBlob(descriptor: Descriptor, layout: string): Promise<void>;
  /**
   * The same image as a local OCI layout (itself when it is one; downloaded into `dir` otherwise), for a
   * packager in another process, which cannot be handed a registry client.
   */
  toLayout(dir: string): Promise<{ layout: string; refName?: string }>;
}

/** diff_id → layer descriptor, from a manifest and its config (whose rootfs.diff_ids are in layer order). */
export function layersByDiffId(manifest: ImageManifest, configBytes: Uint8Array): Map<string, Descriptor> {
  const config = JSON.parse(Buffer.from(configBytes).toString("utf8")) as { rootfs?: { diff_ids?: unknown } };
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new Error(
      `the config lists ${Array.isArray(diffIds) ? diffIds.length : "no"} diff_ids for ${manifest.layers.length} layers`,
    );
  }
  const map = new Map<string, Descriptor>();
  manifest.layers.forEach((layer, i) => map.set(String(diffIds[i]), layer));
  return map;
}

/**
 * Puts a blob of one layout into another: a hardlink when both are on one filesystem (a blob is immutable,
 * named by its digest), a copy otherwise.
 */
export async function shareBlob(from: string, to: string, digest: string): Promise<void> {
  const source = blobPath(from, digest);
  const target = blobPath(to, digest);
  await link(source, target).catch(() => copyFile(source, target));
}

/** The image `refName` (or the only one) of an OCI layout, e.g. the previous build's kept in the build cache. */
export async function previousFromLayout(layout: string, refName?: string): Promise<PreviousLayers> {
  const descriptor = await resolveRef(layout, refName);
  const { manifest } = parseManifest(await readBlob(layout, descriptor.digest), descriptor.mediaType);
  if (!isImageManifest(manifest)) throw new Error(`${layout}: ${descriptor.digest} is not an image manifest`);
  return {
    source: refName ? `${layout}:${refName}` : layout,
    digest: descriptor.digest,
    layers: manifest.layers,
    byDiffId: layersByDiffId(manifest, await readBlob(layout, manifest.config.digest)),
    fetchBlob: (layer, target) => shareBlob(layout, target, layer.digest),
    toLayout: async () => ({ layout, ...(refName !== undefined ? { refName } : {}) }),
  };
}

/**
 * An image in a registry: two small GETs (manifest, config). Blobs are downloaded only when a layout needs
 * them; a push skips them anyway (the registry has them). Undefined when the reference does not exist.
 */
export async function previousFromRegistry(
  client: RegistryClient,
  ref: ImageReference,
  platform?: { architecture: string; variant?: string },
): Promise<PreviousLayers | undefined> {
  let fetched = await client.getManifest(ref);
  if (!fetched) return undefined;
  if (isIndex(fetched.manifest)) {
    const child = fetched.manifest.manifests.find(
      (m) =>
        (!platform || m.platform?.architecture === platform.architecture) &&
        (!platform?.variant || m.platform?.variant === platform.variant),
    );
    if (!child) return undefined;
    fetched = await client.getManifest({ ...ref, tag: undefined, digest: child.digest });
    if (!fetched) return undefined;
  }
  const manifest = fetched.manifest;
  if (!isImageManifest(manifest)) return undefined;
  const config = await client.getBlob(ref, manifest.config.digest);
  const { bytes, mediaType, digest } = fetched;
  const fetchBlob = async (layer: Descriptor, target: string) => {
    await client.downloadBlob(ref, layer.digest, blobPath(target, layer.digest));
  };
  return {
    source: formatReference(ref),
    digest,
    layers: manifest.layers,
    byDiffId: layersByDiffId(manifest, config),
    fetchBlob,
    toLayout: async (dir) => {
      await initLayout(dir);
      await writeBlob(dir, Buffer.from(config));
      await Promise.all(manifest.layers.map((layer) => fetchBlob(layer, dir)));
      await writeManifestBytes(dir, bytes, mediaType, "previous");
      return { layout: dir, refName: "previous" };
    },
  };
}

/** Records manifest bytes as they are (their digest must not change) under `refName`. */
async function writeManifestBytes(
  dir: string,
  bytes: Buffer,
  mediaType: string,
  refName: string,
): Promise<void> {
  const { digest, size } = await writeBlob(dir, bytes);
  await addManifest(dir, { mediaType, digest, size }, { refName });
}
