import { configDefaults, defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The fixture suites (suites/fixtures-<runtime>.test.ts, local in two files) are most of
 * CI's time, each 8–13 min on 2 cores: they start first, longest first, so that the two
 * workers take two of them at a time (never both local halves at once: they would time
 * the same kind of checks against each other) and the short files fill in at the end.
 * The order among the others is vitest's own.
 */
const FIXTURE_SUITES_FIRST = [
  /suites\/fixtures-local\.test\.ts$/,
  /suites\/fixtures-docker\.test\.ts$/,
  /suites\/fixtures-kubernetes\.test\.ts$/,
  /suites\/fixtures-local-calibration\.test\.ts$/,
];

class FixtureSuitesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = FIXTURE_SUITES_FIRST.findIndex((pattern) => pattern.test(file.moduleId));
      return index < 0 ? FIXTURE_SUITES_FIRST.length : index;
    };
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
