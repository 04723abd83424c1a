import { existsSync } from "node:fs";
import { execStreaming } from "@frostyard/kit";
import { planRunnerPreparation, prepStepArgv, pathsOfInterest, USERNS_SYSCTLS } from "../runner-prep";
import { withSudo } from "../sudo";
import type { BuildContext } from "./context";
import { onPath, osId, readSysctl } from "./host";
import type { PlannedBuild } from "./summary";

/** Runner preparation: what a hosted runner lacks for these images (userns sysctls, keyrings, repart). */
export async function prepareRunnerStep(context: BuildContext, plan: PlannedBuild): Promise<void> {
  const { logger, env, report } = context;
  await report.timings.time("prepare runner", async () => {
    const sysctls: Record<string, string | undefined> = {};
    for (const key of USERNS_SYSCTLS) sysctls[key] = await readSysctl(key);
    const steps = planRunnerPreparation({
      githubHosted: env.RUNNER_ENVIRONMENT === "github-hosted",
      osId: await osId(),
      sysctls,
      existingPaths: new Set(pathsOfInterest().filter((p) => existsSync(p))),
      distributions: plan.images.map((i) => i.distribution),
      formats: plan.images.map((i) => i.format),
      hasSystemdRepart: onPath("systemd-repart", env) !== undefined,
    });
    for (const step of steps) {
      const what =
        step.kind === "sysctl" ? `${step.key}=${step.value}` : `apt-get install ${step.packages.join(" ")}`;
      logger.info(`Preparing the runner: ${what} (${step.reason})`);
      for (const { command, args } of prepStepArgv(step)) {
        const wrapped = withSudo(command, args, plan.sudo, []);
        await execStreaming(wrapped.command, wrapped.args, { logger });
      }
    }
    if (steps.length === 0) logger.info("Runner preparation: nothing to change on this machine");
  });
}
