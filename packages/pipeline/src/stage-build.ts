import { buildImage, mainImage, type MkosiImage } from "@frostyard/mkosi";
import { previousImageFinder } from "@frostyard/publish";
import type { PipelineRun } from "./run-context";
import { PipelineStageError, runStage } from "./stages";

/** What the build left for the later stages: the main image and its OCI layout, by digest. */
export interface BuiltImage {
  main: MkosiImage;
  layout: string;
  digest: string;
}

/** Build: the shared mkosi build path, the main image always packaged (or named, for Format=oci). */
export async function buildStage(run: PipelineRun): Promise<BuiltImage> {
  const { options, deps, report, imageVersion, env } = run;
  const built = await runStage(run.timings, "build", () =>
    buildImage(
      {
        ...options.build,
        imageVersion,
        package: true,
        ...(options.image ? { title: options.image.repository.split("/").pop() } : {}),
        reuseLayers: options.previousImage?.kind !== "none",
      },
      {
        ...deps,
        env,
        report: report.build,
        previousImage: previousImageFinder(options.previousImage ?? { kind: "auto" }, {
          client: run.client,
          ...(options.image ? { target: options.image } : {}),
          version: imageVersion,
          pushing: options.image !== undefined,
          logger: run.logger,
        }),
      },
    ),
  );
  const { ociLayout: layout, digest } = built;
  if (!layout || !digest) throw new PipelineStageError("build", "the build produced no OCI layout to push");
  return { main: mainImage(built.images), layout, digest };
}
