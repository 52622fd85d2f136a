import { configDefaults, defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The fixture suites (suites/fixtures-<runtime>.test.ts) are most of CI's time, the local
 * one alone ≈ 17 min on 2 cores: they start first, so that the other worker takes the rest
 * meanwhile instead of leaving the longest file for the end. The order among the others
 * is vitest's own.
 */
class FixtureSuitesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => (/suites\/fixtures-local\.test\.ts$/.test(file.moduleId) ? 0 : /suites\/fixtures-[a-z]+\.test\.ts$/.test(file.moduleId) ? 1 : 2);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["harness/**/*.test.ts", "suites/**/*.test.ts", "reference/**/*.test.ts", "bench/**/*.test.ts", "examples/**/*.test.ts"],
    // The certification entry runs through vitest.conformance.config.ts (sidecar-bench certify), not with every `npm test`.
    exclude: [...configDefaults.exclude, "suites/conformance.test.ts"],
    // Tests start real processes (uvicorn, envoy); on 2 cores they must not all start at once.
    maxWorkers: 2,
    sequence: { sequencer: FixtureSuitesFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
