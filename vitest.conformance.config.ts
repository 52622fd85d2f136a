// The conformance entry has its own config so that `npm test` (vitest.config.ts) never
// runs a certification: `sidecar-bench certify` uses this file, and so can CI directly:
//   npx vitest run --config vitest.conformance.config.ts
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["suites/conformance.test.ts"],
    // Checks measure timing and resources of real pods: one at a time, on 2 cores too.
    maxWorkers: 1,
    fileParallelism: false,
    // Each `it` carries its check's own timeout; this bounds the hooks (reaping, stopping pods, the report).
    hookTimeout: 120_000,
    // A flaky verdict must show, not be retried into a pass.
    retry: 0,
  },
});
