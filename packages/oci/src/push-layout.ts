import type { Logger } from "@frostyard/kit";
import type { RegistryClient } from "./client";
import type { ImageReference } from "./reference";

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

export async function pushLayout(options: PushLayoutOptions): Promise<PushLayoutResult> {
  throw new Error(`pushLayout(${options.layout}): not implemented yet`);
}
