// Dev-test expectations shared by the lifecycle and resources suites: a check passes on
// the real sidecars that follow the rule, and fails — naming the problem — on the
// fixture that breaks it.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { ENVOY_MANIFEST, GOOD_PROXY_MANIFEST, REPO_ROOT, manifestExists, runCheckOnRealPod } from "./real-pod-check.ts";

/** Whether a manifest claims every feature a check needs (certify marks it not-supported otherwise). */
function claims(manifest: string, check: ConformanceTest): boolean {
  const features = (parse(readFileSync(resolve(REPO_ROOT, manifest), "utf8")) as { spec: { features?: string[] } }).spec.features ?? [];
  return check.features.every((feature) => features.includes(feature));
}

/** Pod start and stop around the check, beyond its own timeoutMs. */
const POD_OVERHEAD_MS = 30_000;

export function describeCheckOnRealPods(check: ConformanceTest, problem: RegExp): void {
  describe(check.id, () => {
    const timeout = check.timeoutMs + POD_OVERHEAD_MS;
    it.skipIf(!claims(ENVOY_MANIFEST, check))(`passes on Envoy (${ENVOY_MANIFEST})`, async () => {
      const { outcome } = await runCheckOnRealPod(check, ENVOY_MANIFEST);
      expect(outcome.verdict, JSON.stringify(outcome, null, 1)).toBe("passed");
    }, timeout);
    it.skipIf(!manifestExists(GOOD_PROXY_MANIFEST))(`passes on ${GOOD_PROXY_MANIFEST}`, async () => {
      const { outcome } = await runCheckOnRealPod(check, GOOD_PROXY_MANIFEST);
      expect(outcome.verdict, JSON.stringify(outcome, null, 1)).toBe("passed");
    }, timeout);
    it.skipIf(!manifestExists(check.faultyFixture))(`fails on ${check.faultyFixture}, naming the problem`, async () => {
      const { outcome } = await runCheckOnRealPod(check, check.faultyFixture);
      expect(outcome.verdict, JSON.stringify(outcome, null, 1)).toBe("failed");
      expect(outcome.message).toMatch(/^expected .+; /);
      expect(outcome.message).toMatch(problem);
      expect(outcome.evidence).toBeDefined();
    }, timeout);
  });
}

/** Ids are "<profile>.<kebab-name>", unique, and every faulty fixture is a manifest path. */
export function describeRegistry(profile: string, tests: readonly ConformanceTest[], expectedIds: readonly string[]): void {
  it(`registers the ${profile} checks in a stable order, each with a faulty fixture`, () => {
    expect(tests.map((t) => t.id)).toEqual(expectedIds);
    for (const test of tests) {
      expect(test.id).toMatch(new RegExp(`^${profile}\\.[a-z0-9]+(-[a-z0-9]+)*$`));
      expect(test.profile).toBe(profile);
      expect(test.faultyFixture).toMatch(/^reference\/sidecars\/[a-z0-9-]+\.yaml$/);
      expect(test.timeoutMs).toBeGreaterThan(0);
      expect(test.description.length).toBeGreaterThan(20);
    }
  });
}
