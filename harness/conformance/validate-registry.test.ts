import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ConformanceTest, Profile } from "./conformance-test.ts";
import { registryProblems } from "./validate-registry.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const check = (id: string, faultyFixture: string, overrides: Partial<ConformanceTest> = {}): ConformanceTest => ({
  id,
  description: "a fake",
  profile: id.split(".")[0] as Profile,
  level: "core",
  features: [],
  faultyFixture,
  timeoutMs: 1_000,
  run: async () => ({ verdict: "passed", message: "" }),
  ...overrides,
});

describe("registry rules", () => {
  it("accept a sound registry", async () => {
    expect(await registryProblems([check("proxy.json-identical", "scenarios/sidecars/envoy.yaml")], root)).toEqual([]);
  });

  it("name each broken rule: duplicate ids, malformed ids, profile ≠ prefix, shared, missing and invalid fixtures", async () => {
    const problems = await registryProblems(
      [
        check("proxy.a", "scenarios/sidecars/envoy.yaml"),
        check("proxy.a", "harness/scenario/fixtures/valid/sidecars/envoy.yaml"),
        check("Proxy.B", "harness/scenario/fixtures/valid/sidecars/log-shipper.yaml"),
        check("lifecycle.c", "reference/sidecars/absent.yaml", { profile: "proxy" }),
        check("proxy.d", "scenarios/sidecars/envoy.yaml"),
        check("proxy.e", "harness/conformance/fixtures/malformed-sidecar.yaml", { timeoutMs: 0 }),
      ],
      root,
    );
    expect(problems).toEqual([
      "CONFORMANCE_TESTS[1] (proxy.a): id already used by CONFORMANCE_TESTS[0]; ids are stable and unique",
      "CONFORMANCE_TESTS[2] (Proxy.B): id must match /^(lifecycle|proxy|resources|telemetry|logs|secrets)\\.[a-z0-9-]+$/",
      'CONFORMANCE_TESTS[3] (lifecycle.c): profile "proxy" differs from the id\'s prefix "lifecycle"',
      expect.stringMatching(/^CONFORMANCE_TESTS\[3\] \(lifecycle\.c\): faultyFixture reference\/sidecars\/absent\.yaml is not a valid Sidecar manifest: .*file not found/),
      "CONFORMANCE_TESTS[4] (proxy.d): faultyFixture scenarios/sidecars/envoy.yaml is already proxy.a's; each fixture breaks exactly one rule",
      "CONFORMANCE_TESTS[5] (proxy.e): timeoutMs must be a positive number of ms, found 0",
      expect.stringMatching(/faultyFixture harness\/conformance\/fixtures\/malformed-sidecar\.yaml is not a valid Sidecar manifest: [^]*malformed-sidecar\.yaml:10:\d+ spec\.proxy\.upstraem: unknown key "upstraem"/),
    ]);
  });
});
