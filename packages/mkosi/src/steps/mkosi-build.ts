import { existsSync } from "node:fs";
import { isDirectoryFormat } from "../mkosi-summary";
import { mkosiBuild } from "../run";
import { freeBytes } from "../volumes";
import type { BuildContext } from "./context";
import { diskUsage } from "./host";
import type { PlannedBuild } from "./summary";

/** mkosi build, its log streamed in a group; then the outputs: sizes, free space, the rootfs and manifest. */
export async function mkosiBuildStep(context: BuildContext, plan: PlannedBuild): Promise<void> {
  const { logger, report, options } = context;
  const profiles = options.profiles.length > 0 ? ` (${options.profiles.join(", ")})` : "";
  await report.timings.time("mkosi build", () =>
    logger.group(`mkosi build${profiles}`, () => mkosiBuild(plan.runner, plan.mkosiOptions)),
  );
  report.freeAfter = await freeBytes(plan.workRoot);
  for (const image of plan.images) {
    const size = await diskUsage(image.outputPath);
    if (size !== undefined) report.sizes.set(image.outputPath, size);
  }
  const { main } = plan;
  report.rootfs = isDirectoryFormat(main.format) ? main.outputPath : "";
  report.mkosiManifest = main.manifestPath && existsSync(main.manifestPath) ? main.manifestPath : "";
}
