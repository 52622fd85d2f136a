// The conformance registry: every test of every profile, imported explicitly (no
// registration by import side effects), in a stable order — profile by profile, each
// profile's own order within. Reports sort by id; this order is the order they run in.
import type { ConformanceTest, Profile } from "../harness/conformance/conformance-test.ts";
import { lifecycleTests } from "./lifecycle/index.ts";
import { logsTests } from "./logs/index.ts";
import { proxyTests } from "./proxy/index.ts";
import { resourcesTests } from "./resources/index.ts";
import { secretsTests } from "./secrets/index.ts";
import { telemetryTests } from "./telemetry/index.ts";

export const CONFORMANCE_TESTS: readonly ConformanceTest[] = [
  ...lifecycleTests,
  ...proxyTests,
  ...resourcesTests,
  ...telemetryTests,
  ...logsTests,
  ...secretsTests,
];

/** The test with this id; throws naming the ids that exist in its profile. */
export function testById(id: string): ConformanceTest {
  const test = CONFORMANCE_TESTS.find((t) => t.id === id);
  if (test === undefined) {
    const prefix = id.split(".")[0];
    const siblings = CONFORMANCE_TESTS.filter((t) => t.profile === prefix).map((t) => t.id);
    throw new Error(`no conformance test "${id}"${siblings.length > 0 ? ` (${prefix}: ${siblings.join(", ")})` : ""}`);
  }
  return test;
}

export function testsOfProfile(profile: Profile): ConformanceTest[] {
  return CONFORMANCE_TESTS.filter((t) => t.profile === profile);
}
