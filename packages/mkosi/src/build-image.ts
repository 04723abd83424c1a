import type { BuildReport } from "./build-report";
import type { BuildDeps, MkosiBuildOptions } from "./steps/context";
import { recordingFailure } from "./steps/context";
import { checkPackaging, packageStep, type PackagingDeps, type PackagingOptions } from "./steps/package";
import { runMkosiBuild } from "./steps/run-build";

/** What to build and how to package it: build-mkosi's build and packaging inputs, parsed. */
export interface BuildImageOptions extends MkosiBuildOptions, PackagingOptions {}

export interface BuildImageDeps extends BuildDeps, PackagingDeps {}

/**
 * An OS image as build-mkosi makes it: the shared mkosi build (install, prepare, summary, runner prep,
 * cache, build), then the main image packaged as an OCI layout when `package` asks. Publishing is the
 * caller's next step (@frostyard/publish). Returns the report (also filled in when this throws).
 */
export async function buildImage(options: BuildImageOptions, deps: BuildImageDeps): Promise<BuildReport> {
  const { context, plan } = await runMkosiBuild(options, deps, {
    beforeBuild: (planned, context) => checkPackaging(context, planned, options),
  });
  if (options.package) await recordingFailure(context, () => packageStep(context, plan, options, deps));
  return context.report;
}
