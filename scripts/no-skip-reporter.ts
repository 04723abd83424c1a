// A vitest reporter that makes skipped tests fail the run under FROSTYARD_REQUIRE_TOOLS=1 (set by .ci/run).
// tests/helpers/tools.ts already throws when a tool is missing there; this catches every other skip
// (`it.skip`, `describe.skipIf`, `it.todo`, `ctx.skip()`), so CI never goes green on tests that did not run.
import type { Reporter, TestModule } from "vitest/node";

export function skippedTests(modules: ReadonlyArray<TestModule>): string[] {
  const skipped: string[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests("skipped")) {
      const result = test.result();
      const note = result.state === "skipped" ? result.note : undefined;
      skipped.push(`${module.relativeModuleId} > ${test.fullName}${note ? ` (${note})` : ""}`);
    }
  }
  return skipped;
}

export default class NoSkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (process.env.FROSTYARD_REQUIRE_TOOLS !== "1") return;
    const skipped = skippedTests(modules);
    if (skipped.length === 0) return;
    console.error(
      `\nFROSTYARD_REQUIRE_TOOLS=1 forbids skipped tests; ${skipped.length} skipped:\n` +
        skipped.map((name) => `  - ${name}`).join("\n"),
    );
    process.exitCode = 1;
  }
}
