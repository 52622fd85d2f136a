import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ConformanceTest, Profile } from "./conformance-test.ts";
import { exchangeClaim, observationClaim } from "./detection-claim.ts";
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
  detection: exchangeClaim(44, "request"),
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

  it("require a detection claim per test: exchange-based ones catching 10% at 99%, consistent with their tries; proxy checks on exchanges", async () => {
    const envoy = "scenarios/sidecars/envoy.yaml";
    const problems = await registryProblems(
      [
        check("proxy.no-claim", envoy, { detection: undefined as unknown as ConformanceTest["detection"] }),
        check("proxy.too-few", "reference/sidecars/good-proxy.yaml", { detection: exchangeClaim(20, "request") }),
        check("proxy.inconsistent", "reference/sidecars/drop-header.yaml", { detection: { ...exchangeClaim(44, "request"), catchesFaultFraction: 0.01 } }),
        check("proxy.observed", "reference/sidecars/rewrite-json.yaml", { detection: observationClaim("1 request") }),
        check("lifecycle.blank-unit", "reference/sidecars/ready-late.yaml", { detection: observationClaim(" ") }),
        check("lifecycle.observed-twice", "reference/sidecars/slow-start.yaml", { detection: { ...observationClaim("2 starts"), triesPerExpectation: 2 } }),
        check("lifecycle.sound", "reference/sidecars/early-admin.yaml", { detection: observationClaim("1 SIGTERM") }),
      ],
      root,
    );
    expect(problems).toEqual([
      "CONFORMANCE_TESTS[0] (proxy.no-claim): detection is missing: state what the check tries and what fault fraction it catches",
      "CONFORMANCE_TESTS[1] (proxy.too-few): exchange-based checks must catch a fault on 10% of requests with 99% probability: 20 tries catch only ≥ 20.6% (need ≥ 44 tries)",
      "CONFORMANCE_TESTS[2] (proxy.inconsistent): detection.catchesFaultFraction must be 1 − 0.01^(1/44) = 0.0994, found 0.01",
      'CONFORMANCE_TESTS[3] (proxy.observed): proxy checks judge exchanges: detection.basis must be "exchanges"',
      "CONFORMANCE_TESTS[4] (lifecycle.blank-unit): detection.unit is empty: say what one try is",
      "CONFORMANCE_TESTS[5] (lifecycle.observed-twice): an observation is one deterministic try catching fraction 1, found 2 tries catching 1",
    ]);
  });
});
