import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real registries and tools on loopback ports; files run in parallel, tests in a file in order.
    fileParallelism: true,
  },
});
