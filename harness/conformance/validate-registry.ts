// The registry's rules, checked by suites/registry.test.ts on the real registry and by
// the harness's tests on fakes: stable, well-formed ids; profile = id prefix; a
// faulty fixture per test that exists and is a valid Sidecar manifest (a check that
// cannot be shown to fail is a defect); and a detection claim per test, exchange-based
// ones catching a fault on 10% of requests with 99% probability (detection-claim.ts).
import { resolve } from "node:path";
import { ManifestError, loadManifest } from "../scenario/index.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import { claimProblems } from "./detection-claim.ts";

export const TEST_ID_PATTERN = /^(lifecycle|proxy|resources|telemetry|logs|secrets)\.[a-z0-9-]+$/;

/** Every rule a registry breaks, one sentence each; empty when it is sound. */
export async function registryProblems(registry: readonly ConformanceTest[], projectRoot: string): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const fixtures = new Map<string, string>();
  for (const [index, test] of registry.entries()) {
    const where = `CONFORMANCE_TESTS[${index}] (${test.id})`;
    const first = seen.get(test.id);
    if (first !== undefined) problems.push(`${where}: id already used by CONFORMANCE_TESTS[${first}]; ids are stable and unique`);
    else seen.set(test.id, index);
    if (!TEST_ID_PATTERN.test(test.id)) problems.push(`${where}: id must match ${TEST_ID_PATTERN}`);
    else if (test.id.split(".")[0] !== test.profile) problems.push(`${where}: profile "${test.profile}" differs from the id's prefix "${test.id.split(".")[0]}"`);
    if (test.level !== "core" && test.level !== "extended") problems.push(`${where}: level must be core or extended, found ${JSON.stringify(test.level)}`);
    if (!(Number.isFinite(test.timeoutMs) && test.timeoutMs > 0)) problems.push(`${where}: timeoutMs must be a positive number of ms, found ${test.timeoutMs}`);
    if (test.description.trim() === "") problems.push(`${where}: description is empty`);
    for (const problem of claimProblems(test.detection, test.profile)) problems.push(`${where}: ${problem}`);
    const sharedWith = fixtures.get(test.faultyFixture);
    if (sharedWith !== undefined) problems.push(`${where}: faultyFixture ${test.faultyFixture} is already ${sharedWith}'s; each fixture breaks exactly one rule`);
    else fixtures.set(test.faultyFixture, test.id);
    try {
      await loadManifest(resolve(projectRoot, test.faultyFixture), "Sidecar");
    } catch (error) {
      const detail = error instanceof ManifestError ? error.message : (error as Error).message;
      problems.push(`${where}: faultyFixture ${test.faultyFixture} is not a valid Sidecar manifest: ${detail}`);
    }
  }
  return problems;
}
