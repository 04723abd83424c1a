import type { Logger } from "@frostyard/kit";
import type { RegistryClient } from "./client";
import { blobPath, readBlob, resolve } from "./layout";
import { isIndex, parseManifest, type Descriptor } from "./manifest";
import { formatReference, repositoryName, withDigest, withTag, type ImageReference } from "./reference";

export interface PushLayoutOptions {
  client: RegistryClient;
  /** OCI layout directory. */
  layout: string;
  /** The index.json entry to push (`org.opencontainers.image.ref.name`). */
  refName: string;
  /** Repository to push to; its tag or digest is ignored in favour of `tags`. */
  target: ImageReference;
  /** Tags to push the manifest under (at least one). */
  tags: string[];
  /** Parallel blob uploads; default 4. */
  concurrency?: number;
  /** A repository on the same registry that may hold the blobs already (cross-repository mount). */
  mountFrom?: string;
  logger: Logger;
}

export interface PushLayoutResult {
  /** Manifest digest; equal to the layout's. */
  digest: string;
  /** Blobs uploaded. */
  pushedBlobs: number;
  /** Blobs the registry already had. */
  skippedBlobs: number;
  /** Blobs mounted from `mountFrom`. */
  mountedBlobs: number;
  uploadedBytes: number;
  tags: string[];
}

/** A manifest to push (children of an index before the index) and the blobs it needs. */
interface PushPlanEntry {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** Manifests in push order (children first) and the distinct blobs they reference, read from the layout. */
async function collect(
  layout: string,
  root: Descriptor,
): Promise<{ manifests: PushPlanEntry[]; blobs: Descriptor[] }> {
  const manifests: PushPlanEntry[] = [];
  const blobs = new Map<string, Descriptor>();
  const visit = async (descriptor: Descriptor, depth: number): Promise<void> => {
    if (depth > 4) throw new Error(`${layout}: image indexes nest more than 4 deep under ${root.digest}`);
    const bytes = await readBlob(layout, descriptor.digest);
    const { manifest } = parseManifest(
      bytes,
      descriptor.mediaType,
      `${layout} manifest ${descriptor.digest}`,
    );
    if (isIndex(manifest)) {
      for (const child of manifest.manifests) await visit(child, depth + 1);
    } else {
      for (const blob of [manifest.config, ...manifest.layers]) {
        if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob);
      }
    }
    manifests.push({ descriptor, bytes });
  };
  await visit(root, 0);
  return { manifests, blobs: [...blobs.values()] };
}

/**
 * Pushes one image (or index) of an OCI layout to a registry: blobs the registry has are skipped
 * (HEAD), others mounted from `mountFrom` when given or uploaded, a bounded number at a time; then the
 * manifest by each tag. Fails unless the registry's digest for every tag is the layout's.
 */
export async function pushLayout(options: PushLayoutOptions): Promise<PushLayoutResult> {
  const { client, layout, logger } = options;
  if (options.tags.length === 0) {
    throw new Error(`pushLayout: no tags given for ${repositoryName(options.target)}; name at least one`);
  }
  const repo = { registry: options.target.registry, repository: options.target.repository };
  // withTag validates each tag before anything is uploaded.
  const tagged = options.tags.map((tag) => withTag(repo, tag));
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`pushLayout: concurrency ${concurrency} is not a whole number of 1 or more`);
  }

  const root = await resolve(layout, options.refName);
  const { manifests, blobs } = await collect(layout, root);
  const counts = { pushedBlobs: 0, skippedBlobs: 0, mountedBlobs: 0, uploadedBytes: 0 };
  const name = repositoryName(repo);

  const pushBlob = async (blob: Descriptor): Promise<void> => {
    if (await client.blobExists(repo, blob.digest)) {
      counts.skippedBlobs++;
      logger.debug(`${name}: has ${blob.digest}`);
      return;
    }
    const source = blobPath(layout, blob.digest);
    const result = await client.uploadBlob(
      repo,
      blob.digest,
      source,
      blob.size,
      options.mountFrom !== undefined ? { mountFrom: options.mountFrom } : {},
    );
    if (result.mounted) {
      counts.mountedBlobs++;
      logger.debug(`${name}: mounted ${blob.digest} from ${options.mountFrom}`);
    } else {
      counts.pushedBlobs++;
      counts.uploadedBytes += result.size;
      logger.debug(`${name}: uploaded ${blob.digest} (${result.size} bytes)`);
    }
  };

  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (errors.length === 0 && next < blobs.length) {
      const blob = blobs[next++]!;
      await pushBlob(blob).catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, blobs.length) }, worker));
  if (errors.length > 0) throw errors[0];

  // Children of an index by digest first: a registry refuses an index whose manifests it lacks.
  for (const entry of manifests.slice(0, -1)) {
    await client.putManifest(
      withDigest(repo, entry.descriptor.digest),
      entry.bytes,
      entry.descriptor.mediaType,
    );
  }
  const top = manifests[manifests.length - 1]!;
  for (const ref of tagged) {
    const digest = await client.putManifest(ref, top.bytes, top.descriptor.mediaType);
    const head = await client.headManifest(ref);
    if (digest !== root.digest || head?.digest !== root.digest) {
      throw new Error(
        `pushed ${formatReference(ref)} but the registry reports ${head?.digest ?? "no manifest"}; the layout's is ${root.digest}`,
      );
    }
  }
  logger.info(
    `pushed ${name}@${root.digest} as ${options.tags.join(", ")}: ${counts.pushedBlobs} blobs uploaded (${counts.uploadedBytes} bytes), ${counts.skippedBlobs} already there, ${counts.mountedBlobs} mounted`,
  );
  return { digest: root.digest, ...counts, tags: [...options.tags] };
}
