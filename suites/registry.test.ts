import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { detectionProbability } from "../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../harness/conformance/suite-config.ts";
import { registryProblems } from "../harness/conformance/validate-registry.ts";
import type { PrimaryFeature } from "../harness/scenario/index.ts";
import { CONFORMANCE_TESTS, testById, testsOfProfile } from "./registry.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("the conformance registry", () => {
  it("has unique well-formed ids, profiles matching their prefix, and a valid faulty fixture per test", async () => {
    expect(CONFORMANCE_TESTS.length).toBeGreaterThan(0);
    expect(await registryProblems(CONFORMANCE_TESTS, root)).toEqual([]);
  });

  it("covers every profile, and looks tests up by id and profile", () => {
    for (const profile of ["lifecycle", "proxy", "resources", "telemetry", "logs", "secrets"] as const) expect(testsOfProfile(profile).length, profile).toBeGreaterThan(0);
    const first = CONFORMANCE_TESTS[0]!;
    expect(testById(first.id)).toBe(first);
    expect(() => testById("proxy.no-such-test")).toThrow(/no conformance test "proxy\.no-such-test" \(proxy: /);
  });

  it("states detection power: every proxy check and both watching lifecycle checks try each expectation often enough to catch a fault on 10% of requests with ≥ 99%", () => {
    const exchanges = CONFORMANCE_TESTS.filter((t) => t.detection.basis === "exchanges");
    expect(exchanges.map((t) => t.id)).toEqual(expect.arrayContaining([...testsOfProfile("proxy").map((t) => t.id), "lifecycle.no-traffic-before-ready", "lifecycle.fails-fast-while-down"]));
    for (const test of exchanges) {
      const tries = test.detection.fixedTries ? test.detection.triesPerExpectation : DEFAULT_SUITE_CONFIG.triesPerExpectation;
      expect(detectionProbability(0.1, tries), `${test.id}: ${tries} tries`).toBeGreaterThanOrEqual(0.99);
    }
    for (const test of CONFORMANCE_TESTS.filter((t) => t.detection.basis === "observation")) expect(test.detection.unit, test.id).not.toBe("");
  });

  it("declares what each check needs from the primary: role checks its emitters, and every use of the debug endpoints, identity models or token generation in a check's source", () => {
    const uses: Array<[PrimaryFeature, RegExp]> = [
      ["debug-endpoints", /\/v2\/debug\/(echo|fail|pid)|primaryIdentity\(/],
      ["identity-models", /identity_[a-z0-9]+/],
      ["token-generation", /startGeneration|generateRequest\(|generate_stream/],
    ];
    for (const test of CONFORMANCE_TESTS) {
      const needs = test.primaryServes ?? [];
      if (["telemetry", "logs", "secrets"].includes(test.profile)) expect(needs, test.id).toContain("role-emitters");
      const file = join(root, "suites", test.profile, `${test.id.slice(test.profile.length + 1)}.ts`);
      if (!existsSync(file)) continue; // built by a factory (logs' rotation checks)
      const source = readFileSync(file, "utf8");
      for (const [feature, pattern] of uses) expect(needs.includes(feature), `${test.id} ${pattern.test(source) ? "uses" : "does not use"} ${feature}`).toBe(pattern.test(source));
    }
  });

  it("is the catalogue the README shows: every check's id in its table of checks", () => {
    const readme = readFileSync(resolve(root, "README.md"), "utf8");
    const start = readme.indexOf("\n## The conformance catalogue\n");
    expect(start, 'README.md has no "## The conformance catalogue" section').toBeGreaterThan(-1);
    const end = readme.indexOf("\n## ", start + 1);
    const catalogue = readme.slice(start, end === -1 ? undefined : end);
    const missing = CONFORMANCE_TESTS.filter((t) => !catalogue.includes(`\`${t.id}\``)).map((t) => t.id);
    expect(missing, "checks missing from the README's catalogue").toEqual([]);
  });
});
