import { spawnSync } from "node:child_process";

/**
 * Tests use real tools. When one is missing, the test is skipped with a printed reason locally; under
 * FROSTYARD_REQUIRE_TOOLS=1 (set by .ci/run, which installs every tool) a missing tool is a failure,
 * so nothing silently skips in CI.
 */
export function hasTool(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

/** Returns a reason string when a tool is missing (for `describe.skipIf`), or throws under CI. */
export function missingTools(...bins: string[]): string | false {
  const missing = bins.filter((b) => !hasTool(b));
  if (missing.length === 0) return false;
  const reason = `missing tool(s): ${missing.join(", ")} (install them as .ci/run does)`;
  if (process.env.FROSTYARD_REQUIRE_TOOLS === "1") {
    throw new Error(`${reason}; FROSTYARD_REQUIRE_TOOLS=1 forbids skipping`);
  }
  console.warn(`SKIP: ${reason}`);
  return reason;
}
