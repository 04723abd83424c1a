import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Timings, type Logger } from "@frostyard/kit";
import {
  buildImage,
  mainImage,
  newBuildReport,
  type BuildImageDeps,
  type BuildImageOptions,
  type BuildReport,
  type MkosiImage,
} from "@frostyard/mkosi";
import { serveLayout, type ImageReference, type LayoutRegistry } from "@frostyard/oci";
import { publishImage, registryClientFor } from "@frostyard/publish";
import {
  generateCosignKeyPair,
  keySigner,
  keyVerifier,
  loadCosignPrivateKey,
  parsePublicKey,
  promoteTags,
  resolveKeySource,
  signImages,
  verifyInRegistry,
  type CosignPrivateKey,
  type RegistryVerification,
  type SignatureFormat,
  type SignImagesReport,
} from "@frostyard/cosign";
import { lint, type LintReport } from "@frostyard/lint-bootc";
import { unpackLayoutImage } from "./layout-rootfs";
import { PipelineStageError, runStage, type Stage } from "./stages";

export interface PipelineOptions {
  /** The build as build-mkosi takes it; `image` and `push` are the pipeline's own. */
  build: Omit<BuildImageOptions, "package" | "title">;
  /** Repository to push to; undefined: an OCI layout directory served as a registry on loopback. */
  image?: ImageReference;
  /** Push the version tag even when the registry holds another image under it (default: refuse). */
  overwriteVersion?: boolean;
  registryUsername?: string;
  registryPassword?: string;
  /** Tags besides the image version. */
  tags: string[];
  lint: boolean;
  lintFatalWarnings: boolean;
  lintSkip: string[];
  /** A cosign key source (path, PEM, env://NAME); undefined: a throwaway key kept in memory. */
  key?: string;
  password?: string;
  format: SignatureFormat;
  promoteTags: string[];
  /** The embedded registry's layout directory; default `registry` under the work directory. */
  registryLayout?: string;
  /** Where the public key is written; default `cosign.pub` beside the build's outputs. */
  publicKeyPath?: string;
}

/** The build's edges (cache, packager, environment…) and the pipeline's one report channel. */
export interface PipelineDeps extends Omit<BuildImageDeps, "report"> {
  /** Filled in as the pipeline goes, so a caller still has it when a stage throws. */
  report?: PipelineReport;
}

export interface PipelinePush {
  /** `<registry>/<repository>` pushed to (the loopback address while the embedded registry ran). */
  repository: string;
  digest: string;
  tags: string[];
  /** Set for the embedded registry: the layout directory that now holds the image and its signature. */
  registryLayout?: string;
  uploadedBytes: number;
}

export interface PipelinePublicKey {
  path: string;
  fingerprint: string;
  throwaway: boolean;
}

export interface PipelineReport {
  timings: Timings;
  imageVersion: string;
  /** The build's own report: images, cache, the packaged layout and its digest. */
  build: BuildReport;
  lint?: LintReport;
  pushed?: PipelinePush;
  publicKey?: PipelinePublicKey;
  signed?: SignImagesReport;
  verification?: RegistryVerification;
  promoted: string[];
  failed?: { stage?: Stage; message: string };
}

export function newPipelineReport(options: PipelineOptions, imageVersion: string): PipelineReport {
  return {
    timings: new Timings(),
    imageVersion,
    build: newBuildReport(options.build, imageVersion),
    promoted: [],
  };
}

/**
 * Native lint of what will be pushed: the rootfs of a Format=directory build, or a Format=oci build's
 * image unpacked from its layout (removed again afterwards).
 */
async function lintImage(
  options: PipelineOptions,
  report: PipelineReport,
  main: MkosiImage,
  logger: Logger,
): Promise<LintReport> {
  const lintOptions = {
    engine: "native" as const,
    fatalWarnings: options.lintFatalWarnings,
    skip: options.lintSkip,
    logger,
  };
  if (report.build.rootfs) {
    const rootfs = report.build.rootfs;
    return logger.group(`lint ${rootfs}`, () => lint({ ...lintOptions, rootfs }));
  }
  const { ociLayout: layout, digest } = report.build;
  if (main.format !== "oci" || !layout || !digest) {
    throw new Error(
      `the main image is Format=${main.format}; the pipeline lints a Format=directory rootfs or a Format=oci image (or set lint: false)`,
    );
  }
  const rootfs = `${layout}.lint-rootfs`;
  try {
    return await logger.group(`lint ${layout} (${digest}, unpacked)`, async () => {
      await unpackLayoutImage(layout, digest, rootfs, logger);
      return lint({ ...lintOptions, rootfs });
    });
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

/** A repository name the embedded registry accepts, from mkosi's ImageId. */
export function layoutRepositoryName(imageId: string | undefined): string {
  const name = (imageId ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return `frostyard/${name || "image"}`;
}

/** The key the pipeline signs with: the given one, decrypted, or a fresh one that never leaves memory. */
async function loadSigningKey(
  options: PipelineOptions,
  env: Record<string, string | undefined>,
): Promise<{ key: CosignPrivateKey; throwaway: boolean }> {
  if (options.key !== undefined) {
    const source = await resolveKeySource(options.key, env, "key");
    return {
      key: await loadCosignPrivateKey(source, options.password ?? "", { key: "key", password: "password" }),
      throwaway: false,
    };
  }
  return { key: await generateCosignKeyPair(randomBytes(32).toString("base64")), throwaway: true };
}

/**
 * The whole pipeline in one process: build (mkosi, packaged as an OCI layout) → lint (native, on the
 * rootfs; a failure stops before anything is pushed) → push (to `image`, else to an OCI layout served on
 * loopback) → sign (cosign key, else a throwaway one) → verify (read back with the written public key) →
 * promote. Each stage is timed; a failure is a PipelineStageError naming the stage.
 */
export async function runPipeline(options: PipelineOptions, deps: PipelineDeps): Promise<PipelineReport> {
  const env = deps.env ?? process.env;
  const imageVersion = options.build.imageVersion ?? deps.report?.imageVersion;
  if (imageVersion === undefined) throw new Error("runPipeline needs build.imageVersion or a report");
  const report = deps.report ?? newPipelineReport(options, imageVersion);
  let registry: LayoutRegistry | undefined;
  try {
    await pipeline(options, deps, report, imageVersion, env, (served) => (registry = served));
    return report;
  } catch (error) {
    report.failed = {
      ...(error instanceof PipelineStageError ? { stage: error.stage } : {}),
      message: error instanceof Error ? error.message : String(error),
    };
    throw error;
  } finally {
    await registry?.close();
  }
}

async function pipeline(
  options: PipelineOptions,
  deps: PipelineDeps,
  report: PipelineReport,
  imageVersion: string,
  env: Record<string, string | undefined>,
  onServe: (registry: LayoutRegistry) => void,
): Promise<void> {
  const { logger, timings } = { logger: deps.logger, timings: report.timings };
  // The key first: a wrong password or an unreadable key fails before an hour of building.
  const signing = await loadSigningKey(options, env);
  if (signing.throwaway)
    logger.info(`No key given: signing with a throwaway key (sha256:${signing.key.fingerprint})`);

  const built = await runStage(timings, "build", () =>
    buildImage(
      {
        ...options.build,
        imageVersion,
        package: true,
        ...(options.image ? { title: options.image.repository.split("/").pop() } : {}),
      },
      { ...deps, env, report: report.build },
    ),
  );
  const main = mainImage(built.images);
  const layout = built.ociLayout;
  const digest = built.digest;
  if (!layout || !digest) throw new PipelineStageError("build", "the build produced no OCI layout to push");

  if (options.lint) {
    const linted = await runStage(timings, "lint", () => lintImage(options, report, main, logger));
    report.lint = linted;
    for (const note of linted.notes) logger.info(note);
    if (!linted.passed) {
      const failing = [...linted.failures, ...(linted.warningsFatal ? linted.warnings : [])];
      throw new PipelineStageError(
        "lint",
        `${failing.length} finding(s) fail the image: ${failing.map((f) => `${f.lint} (${f.message.split("\n")[0]})`).join("; ")}; nothing was pushed`,
      );
    }
  }

  const client = registryClientFor(
    { registryUsername: options.registryUsername, registryPassword: options.registryPassword },
    logger,
    options.image?.registry,
  );
  const pushed = await runStage(timings, "push", async () => {
    let target: ImageReference;
    let registryLayout: string | undefined;
    if (options.image) {
      target = options.image;
    } else {
      registryLayout = resolve(
        options.registryLayout ?? join(report.build.workVolume ?? dirname(layout), "registry"),
      );
      await mkdir(registryLayout, { recursive: true });
      const repository = layoutRepositoryName(main.imageId);
      const served = await serveLayout({ layout: registryLayout, repository, logger });
      onServe(served);
      logger.info(`No image given: pushing to the OCI layout ${registryLayout}, served at ${served.url}`);
      target = { registry: served.host, repository };
    }
    const published = await publishImage({
      client,
      layout,
      digest,
      target,
      version: imageVersion,
      tags: options.tags,
      overwriteVersion: options.overwriteVersion ?? false,
      logger,
    });
    return { target, published, registryLayout };
  });
  const { target } = pushed;
  report.pushed = {
    repository: pushed.published.repository,
    digest: pushed.published.digest,
    tags: pushed.published.tags,
    uploadedBytes: pushed.published.uploadedBytes,
    ...(pushed.registryLayout ? { registryLayout: pushed.registryLayout } : {}),
  };

  const publicKeyPath = resolve(options.publicKeyPath ?? join(dirname(main.outputPath), "cosign.pub"));
  const signed = await runStage(timings, "sign", async () => {
    await mkdir(dirname(publicKeyPath), { recursive: true });
    await writeFile(publicKeyPath, signing.key.publicKeyPem, { mode: 0o644 });
    report.publicKey = {
      path: publicKeyPath,
      fingerprint: signing.key.fingerprint,
      throwaway: signing.throwaway,
    };
    const result = await logger.group(`sign ${pushed.published.repository}@${digest}`, () =>
      signImages({
        client,
        images: [`${pushed.published.repository}@${digest}`],
        signer: keySigner(signing.key),
        format: options.format,
        recursive: false,
        annotations: {},
        promoteTags: [],
        logger,
      }),
    );
    if (result.failure) throw new Error(result.failure);
    return result;
  });
  report.signed = signed;

  // Verified again, independently of the signer, with the public key as written: what a host would use.
  const verification = await runStage(timings, "verify", async () => {
    const publicKey = parsePublicKey(await readFile(publicKeyPath, "utf8"), "public-key");
    const result = await verifyInRegistry(client, target, digest, options.format, keyVerifier(publicKey));
    logger.info(
      `verify ${pushed.published.repository}@${digest} with ${publicKeyPath}: ${result.messages.join("; ")}`,
    );
    if (!result.verified) throw new Error(`${result.messages.join("; ")}; no tags were promoted`);
    return result;
  });
  report.verification = verification;

  report.promoted = await runStage(timings, "promote", () =>
    promoteTags(client, target, digest, options.promoteTags),
  );
  for (const ref of report.promoted) logger.info(`promoted ${ref} → ${digest}`);
}
