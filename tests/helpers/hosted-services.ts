import { existsSync } from "node:fs";
import { join } from "node:path";
import { startHostedServices, type HostedServices } from "@frostyard/runner";
import { repoRoot } from "./run-action";

/**
 * GitHub's hosted cache and artifact services for tests, started by the local runner's own module
 * (packages/runner/src/hosted-services.ts). GitHub's results service cannot be reached from our machines
 * (no internet, and it admits only real jobs' tokens), which is why it is served here: a Twirp front with
 * the RPCs @actions/cache v2 and @actions/artifact call, and real Azure blob storage (azurite, a
 * devDependency) behind the signed URLs it hands out. Both run on 127.0.0.1; `stop()` ends azurite by its
 * PID and closes the front.
 */
export type { HostedServices } from "@frostyard/runner";

/**
 * Why the services cannot start here, for `describe.skipIf(hostedServicesUnavailable())`, or false.
 * Like `missingTools`, it prints the reason and skips locally but throws under FROSTYARD_REQUIRE_TOOLS=1.
 */
export function hostedServicesUnavailable(): string | false {
  if (existsSync(join(repoRoot, "node_modules/azurite/dist/src/blob/main.js"))) return false;
  const reason = "azurite is not installed (a devDependency: run `npm ci`, as .ci/run does)";
  if (process.env.FROSTYARD_REQUIRE_TOOLS === "1") {
    throw new Error(`${reason}; FROSTYARD_REQUIRE_TOOLS=1 forbids skipping`);
  }
  console.warn(`SKIP: ${reason}`);
  return reason;
}

export const startTestHostedServices = (dir?: string): Promise<HostedServices> =>
  startHostedServices(dir ? { dir } : {});

/**
 * Points this process's @actions/cache and @actions/artifact at the services (they read process.env
 * on every call) as a hosted runner's job environment would; returns a function that restores the
 * environment as it was.
 */
export function useHostedEnv(services: HostedServices, extra: Record<string, string> = {}): () => void {
  const values: Record<string, string | undefined> = {
    ...services.env,
    // github.com, not an enterprise server: both libraries refuse the results service on GHES.
    GITHUB_SERVER_URL: "https://github.com",
    ACTIONS_CACHE_URL: undefined,
    ...extra,
  };
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (from: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(from)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(saved);
}
