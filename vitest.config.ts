import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real registries and tools on loopback ports; files run in parallel, tests in a file in order.
    fileParallelism: true,
    // GitHub's workflow parser imports JSON without import attributes, which Node's ESM loader refuses:
    // inlined, vite transforms those imports.
    server: { deps: { inline: [/@actions\/(workflow-parser|expressions)/] } },
  },
});
