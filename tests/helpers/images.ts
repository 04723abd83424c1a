import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { authFileJson, INSECURE_POLICY } from "./containers";

/**
 * Tiny real images for tests: busybox-static in one layer plus a small text file whose content the
 * caller picks (different content → different digests, so tests can move tags). The OCI layout is
 * written here with GNU tar and node's gzip, independently of packages/oci, and pushed with skopeo,
 * so the code under test never builds its own fixtures.
 */

const run = promisify(execFile);

export const BUSYBOX = "/bin/busybox";
/** Tools these helpers drive: use with `missingTools(...IMAGE_TOOLS)`. */
export const IMAGE_TOOLS = ["skopeo", "tar", BUSYBOX] as const;

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const REF_NAME = "org.opencontainers.image.ref.name";

export type Architecture = "amd64" | "arm64";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface TestImageOptions {
  /** Text of /content.txt in the second layer; default "frostyard test image". */
  content?: string;
  architecture?: Architecture;
  /** Push with these credentials (written to a temp auth file, never put on argv). */
  credentials?: { user: string; password: string };
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const TAR_FLAGS = [
  "--create",
  "--file=-",
  "--sort=name",
  "--mtime=@0",
  "--owner=0",
  "--group=0",
  "--numeric-owner",
  "--format=gnu",
];

/** A reproducible tar of `entries` (paths relative to `dir`) made by GNU tar. */
async function tarOf(dir: string, entries: string[]): Promise<Buffer> {
  const { stdout } = await run("tar", [...TAR_FLAGS, "-C", dir, ...entries], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

interface Layer {
  /** gzip-compressed tar, as stored in the registry. */
  blob: Buffer;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
}

function layerFromTar(tar: Buffer): Layer {
  // gzip header mtime is 0 in node, so the same tar always gives the same blob.
  return { blob: gzipSync(tar, { level: 6 }), diffId: sha256Digest(tar) };
}

let busyboxLayer: Promise<Layer> | undefined;

/** bin/busybox plus bin/sh → busybox; built once per process. */
function getBusyboxLayer(): Promise<Layer> {
  busyboxLayer ??= (async () => {
    const staging = await mkdtemp(join(tmpdir(), "frostyard-busybox-"));
    try {
      await mkdir(join(staging, "bin"));
      await writeFile(join(staging, "bin", "busybox"), await readFile(BUSYBOX), { mode: 0o755 });
      await run("ln", ["-s", "busybox", join(staging, "bin", "sh")]);
      return layerFromTar(await tarOf(staging, ["bin"]));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  })();
  return busyboxLayer;
}

async function contentLayer(content: string): Promise<Layer> {
  const staging = await mkdtemp(join(tmpdir(), "frostyard-content-"));
  try {
    await writeFile(join(staging, "content.txt"), content);
    return layerFromTar(await tarOf(staging, ["content.txt"]));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function writeLayoutBlob(layoutDir: string, bytes: Buffer): Promise<string> {
  const digest = sha256Digest(bytes);
  await writeFile(join(layoutDir, "blobs", "sha256", digest.slice("sha256:".length)), bytes);
  return digest;
}

export interface BuiltImage {
  /** The manifest's descriptor (with platform). */
  descriptor: Descriptor;
  manifest: Buffer;
  config: Buffer;
}

/** Writes one platform image's blobs into `layoutDir` (which must have blobs/sha256) and returns its descriptor. */
export async function writeTestImageBlobs(
  layoutDir: string,
  options: { content: string; architecture: Architecture },
): Promise<BuiltImage> {
  const layers = [await getBusyboxLayer(), await contentLayer(options.content)];
  const config = Buffer.from(
    JSON.stringify({
      created: "1970-01-01T00:00:00Z",
      architecture: options.architecture,
      os: "linux",
      config: { Cmd: ["/bin/sh"], Labels: { "org.frostyard.test.content": options.content } },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "frostyard test helper" })),
    }),
  );
  const layerDescriptors: Descriptor[] = [];
  for (const layer of layers) {
    const digest = await writeLayoutBlob(layoutDir, layer.blob);
    layerDescriptors.push({ mediaType: OCI_LAYER_GZIP, digest, size: layer.blob.length });
  }
  const configDigest = await writeLayoutBlob(layoutDir, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: layerDescriptors,
    }),
  );
  const digest = await writeLayoutBlob(layoutDir, manifest);
  return {
    descriptor: {
      mediaType: OCI_MANIFEST,
      digest,
      size: manifest.length,
      platform: { architecture: options.architecture, os: "linux" },
    },
    manifest,
    config,
  };
}

async function newLayout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "frostyard-image-"));
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return dir;
}

async function writeLayoutIndex(layoutDir: string, descriptor: Descriptor, refName: string): Promise<void> {
  const entry = { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: refName } };
  await writeFile(
    join(layoutDir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }),
  );
}

/** An OCI layout on disk holding one test image tagged `latest`; the caller removes `dir`. */
export async function buildTestImageLayout(
  options: { content?: string; architecture?: Architecture } = {},
): Promise<{ dir: string; image: BuiltImage }> {
  const dir = await newLayout();
  const image = await writeTestImageBlobs(dir, {
    content: options.content ?? "frostyard test image",
    architecture: options.architecture ?? "amd64",
  });
  const { platform: _platform, ...descriptor } = image.descriptor;
  await writeLayoutIndex(dir, descriptor, "latest");
  return { dir, image };
}

/** `skopeo copy` from the layout to the registry; returns the digest skopeo reports via --digestfile. */
async function skopeoPush(
  layoutDir: string,
  destination: string,
  options: { all: boolean; credentials?: { user: string; password: string }; registryHost: string },
): Promise<string> {
  await writeFile(join(layoutDir, "policy.json"), INSECURE_POLICY);
  const args = ["copy", "--quiet", "--policy", join(layoutDir, "policy.json"), "--dest-tls-verify=false"];
  args.push("--digestfile", join(layoutDir, "digest"));
  if (options.all) args.push("--all");
  // Always an auth file of our own, so the host's logins never leak into a test.
  const authFile = join(layoutDir, "auth.json");
  const auths = options.credentials ? { [options.registryHost]: options.credentials } : {};
  await writeFile(authFile, authFileJson(auths), { mode: 0o600 });
  args.push("--dest-authfile", authFile);
  args.push(`oci:${layoutDir}:latest`, `docker://${destination}`);
  try {
    await run("skopeo", args);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`skopeo copy to ${destination} failed: ${e.stderr?.trim() || e.message}`);
  }
  return (await readFile(join(layoutDir, "digest"), "utf8")).trim();
}

function expectSameDigest(what: string, expected: string, pushed: string): void {
  // skopeo must push our bytes unchanged, or tests comparing digests would compare the wrong thing.
  if (expected !== pushed) {
    throw new Error(`skopeo pushed ${what} as ${pushed}, but the layout's digest is ${expected}`);
  }
}

/**
 * Builds a tiny busybox image and pushes it with skopeo to `registryHost/repoAndTag` (e.g. "app:v1").
 * Returns the manifest digest (`sha256:…`), which equals sha256 of the manifest bytes in the registry.
 */
export async function pushTestImage(
  registryHost: string,
  repoAndTag: string,
  options: TestImageOptions = {},
): Promise<string> {
  const { dir, image } = await buildTestImageLayout(options);
  try {
    const pushed = await skopeoPush(dir, `${registryHost}/${repoAndTag}`, {
      all: false,
      credentials: options.credentials,
      registryHost,
    });
    expectSameDigest(`${registryHost}/${repoAndTag}`, image.descriptor.digest, pushed);
    return pushed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PushedIndex {
  indexDigest: string;
  /** Manifest digest per architecture. */
  platformDigests: Record<Architecture, string>;
  /** The index bytes as pushed. */
  index: Buffer;
}

/**
 * Pushes an OCI image index over two platform images (linux/amd64 and linux/arm64, whose content
 * differs) to `registryHost/repoAndTag` with `skopeo copy --all`.
 */
export async function pushMultiArchIndex(
  registryHost: string,
  repoAndTag: string,
  options: Omit<TestImageOptions, "architecture"> = {},
): Promise<PushedIndex> {
  const dir = await newLayout();
  try {
    const content = options.content ?? "frostyard test image";
    const platformDigests = {} as Record<Architecture, string>;
    const manifests: Descriptor[] = [];
    for (const architecture of ["amd64", "arm64"] as const) {
      const image = await writeTestImageBlobs(dir, { content: `${content} (${architecture})`, architecture });
      platformDigests[architecture] = image.descriptor.digest;
      manifests.push(image.descriptor);
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
    const indexDigest = await writeLayoutBlob(dir, index);
    await writeLayoutIndex(dir, { mediaType: OCI_INDEX, digest: indexDigest, size: index.length }, "latest");
    const pushed = await skopeoPush(dir, `${registryHost}/${repoAndTag}`, {
      all: true,
      credentials: options.credentials,
      registryHost,
    });
    expectSameDigest(`${registryHost}/${repoAndTag}`, indexDigest, pushed);
    return { indexDigest, platformDigests, index };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
