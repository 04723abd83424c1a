import type { Logger } from "@frostyard/kit";

export interface PackageOptions {
  /** The root filesystem directory to package. */
  rootfs: string;
  /** OCI layout directory (created if missing). */
  layout: string;
  /** `org.opencontainers.image.ref.name` in index.json (e.g. the version tag). */
  refName: string;
  /** Merged over the standard ones the caller computes. */
  labels?: Record<string, string>;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Default 64, at most 128. */
  maxLayers?: number;
  /** Default gzip. */
  compression?: "gzip" | "zstd";
  /** Seconds since the epoch; file mtimes are clamped to it and it is the config's `created`. */
  sourceDateEpoch: number;
  /** OCI architecture (amd64, arm64, …); default from the rootfs's dpkg, else the host. */
  architecture?: string;
  /** Adds the label `containers.bootc=1`. */
  bootable?: boolean;
  logger: Logger;
}

export interface PackagedLayer {
  /** Digest of the compressed blob. */
  digest: string;
  /** Digest of the uncompressed tar. */
  diffId: string;
  /** Compressed size in bytes. */
  size: number;
  /** Packages whose files the layer holds (empty for the skeleton and unowned-files layers). */
  packages: string[];
}

export interface PackageResult {
  manifestDigest: string;
  configDigest: string;
  layers: PackagedLayer[];
  layout: string;
  refName: string;
  /** Manifest + config + layers, in bytes. */
  size: number;
}

export async function packageRootfs(options: PackageOptions): Promise<PackageResult> {
  throw new Error(`packageRootfs(${options.rootfs}): not implemented yet`);
}
