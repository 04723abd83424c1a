import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Timings, type Logger } from "@frostyard/kit";
import {
  buildImage,
  floatingTags,
  newBuildReport,
  versionTagAction,
  type BuildCache,
  type BuildImageDeps,
  type BuildImageOptions,
  type BuildImageResult,
  type BuildReport,
} from "@frostyard/mkosi";
import {
  CredentialStore,
  formatReference,
  pushLayout,
  RegistryClient,
  serveLayout,
  type ImageReference,
  type LayoutRegistry,
} from "@frostyard/oci";
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
import { PipelineStageError, runStage, type Stage } from "./stages";

export interface PipelineOptions {
  /** The build as build-mkosi takes it; `image` and `push` are the pipeline's own. */
  build: Omit<
    BuildImageOptions,
    "image" | "push" | "package" | "tags" | "registryUsername" | "registryPassword"
  >;
  /** Repository to push to; undefined: an OCI layout directory served as a registry on loopback. */
  image?: ImageReference;
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

export interface PipelineDeps {
  logger: Logger;
  cache: BuildCache;
  packager?: BuildImageDeps["packager"];
  onCacheState?: BuildImageDeps["onCacheState"];
  /** Filled in as the pipeline goes, so a caller still has it when a stage throws. */
  report?: PipelineReport;
  env?: Record<string, string | undefined>;
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
  build: BuildReport;
  built?: BuildImageResult;
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
        push: false,
        tags: [],
        ...(options.image ? { image: options.image } : {}),
      },
      {
        logger,
        cache: deps.cache,
        report: report.build,
        env,
        ...(deps.packager ? { packager: deps.packager } : {}),
        ...(deps.onCacheState ? { onCacheState: deps.onCacheState } : {}),
      },
    ),
  );
  report.built = built;
  const layout = built.ociLayout;
  const digest = built.digest;
  if (!layout || !digest) throw new PipelineStageError("build", "the build produced no OCI layout to push");

  if (options.lint) {
    const linted = await runStage(timings, "lint", async () => {
      if (!built.rootfs) {
        throw new Error(
          `the main image is Format=${built.main.format}; the pipeline lints a Format=directory rootfs (or set lint: false)`,
        );
      }
      return logger.group(`lint ${built.rootfs}`, () =>
        lint({
          rootfs: built.rootfs,
          engine: "native",
          fatalWarnings: options.lintFatalWarnings,
          skip: options.lintSkip,
          logger,
        }),
      );
    });
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

  const credentials = new CredentialStore({ logger });
  if (options.image && options.registryUsername && options.registryPassword) {
    credentials.set(options.image.registry, {
      username: options.registryUsername,
      password: options.registryPassword,
    });
  }
  const client = new RegistryClient({ logger, credentials });
  const tags = [...new Set([imageVersion, ...options.tags])];
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
      const served = await serveLayout({
        layout: registryLayout,
        repository: layoutRepositoryName(built.main.imageId),
        logger,
      });
      onServe(served);
      logger.info(`No image given: pushing to the OCI layout ${registryLayout}, served at ${served.url}`);
      target = { registry: served.host, repository: layoutRepositoryName(built.main.imageId) };
    }
    // The version tag is immutable, as in build-mkosi: refused when it already names another image.
    const versionRef = formatReference({ ...target, tag: imageVersion });
    const existing = await client.headManifest({ ...target, tag: imageVersion });
    const action = versionTagAction(
      versionRef,
      existing?.digest,
      digest,
      options.build.overwriteVersion ?? false,
    );
    if (action === "overwrite") {
      logger.warning(`${versionRef} held ${existing?.digest}; overwrite-version moves it to ${digest}`);
    }
    for (const tag of floatingTags(options.tags)) {
      logger.warning(
        `tags: '${tag}' is a floating name pushed before signing; promote-tags moves it only after verification`,
      );
    }
    const result = await logger.group(`push ${formatReference(target)}`, () =>
      pushLayout({ client, layout, refName: imageVersion, target, tags, logger }),
    );
    if (result.digest !== digest) {
      throw new Error(
        `the registry holds ${result.digest} for ${formatReference(target)}:${imageVersion}, not the built ${digest}`,
      );
    }
    return {
      repository: `${target.registry}/${target.repository}`,
      target,
      digest: result.digest,
      tags: result.tags,
      uploadedBytes: result.uploadedBytes,
      ...(registryLayout ? { registryLayout } : {}),
    };
  });
  const { target, ...pushReport } = pushed;
  report.pushed = pushReport;

  const publicKeyPath = resolve(options.publicKeyPath ?? join(dirname(built.main.outputPath), "cosign.pub"));
  const signed = await runStage(timings, "sign", async () => {
    await mkdir(dirname(publicKeyPath), { recursive: true });
    await writeFile(publicKeyPath, signing.key.publicKeyPem, { mode: 0o644 });
    report.publicKey = {
      path: publicKeyPath,
      fingerprint: signing.key.fingerprint,
      throwaway: signing.throwaway,
    };
    const result = await logger.group(`sign ${pushed.repository}@${digest}`, () =>
      signImages({
        client,
        images: [`${pushed.repository}@${digest}`],
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
    logger.info(`verify ${pushed.repository}@${digest} with ${publicKeyPath}: ${result.messages.join("; ")}`);
    if (!result.verified) throw new Error(`${result.messages.join("; ")}; no tags were promoted`);
    return result;
  });
  report.verification = verification;

  report.promoted = await runStage(timings, "promote", () =>
    promoteTags(client, target, digest, options.promoteTags),
  );
  for (const ref of report.promoted) logger.info(`promoted ${ref} → ${digest}`);
}
