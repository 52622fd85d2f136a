import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["harness/**/*.test.ts", "suites/**/*.test.ts", "reference/**/*.test.ts"],
    // The certification entry runs through vitest.conformance.config.ts (sidecar-bench certify), not with every `npm test`.
    exclude: [...configDefaults.exclude, "suites/conformance.test.ts"],
    // Tests start real processes (uvicorn, envoy); on 2 cores they must not all start at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
