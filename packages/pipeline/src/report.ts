import { Timings } from "@frostyard/kit";
import {
  newBuildReport,
  type BuildImageDeps,
  type BuildImageOptions,
  type BuildReport,
} from "@frostyard/mkosi";
import type { ImageReference } from "@frostyard/oci";
import type { PreviousImageChoice } from "@frostyard/publish";
import type { RegistryVerification, SignatureFormat, SignImagesReport } from "@frostyard/cosign";
import type { LintReport } from "@frostyard/lint-bootc";
import type { Stage } from "./stages";
export interface PipelineOptions {
  /** The build as build-mkosi takes it; `image` and `push` are the pipeline's own. */
  build: Omit<BuildImageOptions, "package" | "title">;
  /** Repository to push to; undefined: an OCI layout directory served as a registry on loopback. */
  image?: ImageReference;
  /** Push the version tag even when the registry holds another image under it (default: refuse). */
  overwriteVersion?: boolean;
  /** Where unchanged layers are taken over from; default: found automatically (see build-mkosi). */
  previousImage?: PreviousImageChoice;
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
