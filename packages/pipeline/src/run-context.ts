import type { Logger, Timings } from "@frostyard/kit";
import type { LayoutRegistry, RegistryClient } from "@frostyard/oci";
import { registryClientFor } from "@frostyard/publish";
import { newPipelineReport, type PipelineDeps, type PipelineOptions, type PipelineReport } from "./report";

/** One pipeline run's settings and edges, shared by every stage. */
export interface PipelineRun {
  readonly options: PipelineOptions;
  readonly deps: PipelineDeps;
  readonly report: PipelineReport;
  readonly imageVersion: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly timings: Timings;
  /** Logged in to `image`'s registry when credentials were given; every other registry from the auth files. */
  readonly client: RegistryClient;
  /** The embedded registry, while one is served (closed when the run ends). */
  registry?: LayoutRegistry;
}

export function newPipelineRun(options: PipelineOptions, deps: PipelineDeps): PipelineRun {
  const imageVersion = options.build.imageVersion ?? deps.report?.imageVersion;
  if (imageVersion === undefined) throw new Error("runPipeline needs build.imageVersion or a report");
  const report = deps.report ?? newPipelineReport(options, imageVersion);
  return {
    options,
    deps,
    report,
    imageVersion,
    env: deps.env ?? process.env,
    logger: deps.logger,
    timings: report.timings,
    client: registryClientFor(
      { registryUsername: options.registryUsername, registryPassword: options.registryPassword },
      deps.logger,
      options.image?.registry,
    ),
  };
}
