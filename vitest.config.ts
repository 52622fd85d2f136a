import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["harness/**/*.test.ts", "suites/**/*.test.ts", "reference/**/*.test.ts"],
    // Tests start real processes (uvicorn, envoy); on 2 cores they must not all start at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
