import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import { loadManifest, type LoadedManifest, type PrimaryManifest, type SidecarManifest } from "../scenario/index.ts";
import { policyRecord, suitePolicy } from "./certification-policy.ts";
import { buildConformanceReport, profileResult, type ConformanceReport, type VerdictCounts } from "./conformance-report.ts";
import type { ConformanceTest, Level, Profile, Verdict } from "./conformance-test.ts";
import { exchangeClaim, observationClaim } from "./detection-claim.ts";
import { certificationExitCode } from "./exit-rule.ts";
import { writeConformanceReport } from "./conformance-writers.ts";
import { selectTests } from "./select-tests.ts";
import { suiteVersion } from "./suite-version.ts";
import type { VerdictRecord } from "./verdict-record.ts";
import { verdictTable } from "./verdict-table.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const check = (id: string, level: Level, features: ConformanceTest["features"] = []): ConformanceTest => ({
  id,
  description: id,
  profile: id.split(".")[0] as Profile,
  level,
  features,
  faultyFixture: `reference/sidecars/${id}.yaml`,
  timeoutMs: 1_000,
  detection: observationClaim("a fake"),
  run: async () => ({ verdict: "passed", message: "" }),
});

// Registry order deliberately unsorted: the report sorts.
const registry = [
  check("proxy.z-streaming", "extended", ["streaming"]),
  check("proxy.a-json", "core"),
  check("lifecycle.ready", "core"),
  check("proxy.drain", "extended", ["graceful-drain"]),
  check("resources.idle-memory", "core"),
];
// An exchange-based check: its claim scales with the run's triesPerExpectation.
registry[1] = { ...registry[1]!, detection: exchangeClaim(44, "request compared directly and through the sidecar") };

const record = (id: string, verdict: Verdict, message = `${id} ${verdict}`, evidence?: Record<string, unknown>): VerdictRecord => ({
  runId: "run-1",
  id,
  profile: id.split(".")[0] as Profile,
  level: registry.find((t) => t.id === id)!.level,
  verdict,
  message,
  ...(evidence ? { evidence } : {}),
  startedAt: "2026-01-01T00:00:00.000Z",
  durationMs: 12,
});

const environment = { cpuModel: "test", cores: 2 } as EnvironmentFingerprint;
let sidecar: LoadedManifest<SidecarManifest>;
let primary: LoadedManifest<PrimaryManifest>;
beforeAll(async () => {
  sidecar = await loadManifest(join(root, "scenarios/sidecars/envoy.yaml"), "Sidecar");
  primary = await loadManifest(join(root, "reference/primaries/fastapi-kserve/primary.yaml"), "Primary");
});

function report(
  records: VerdictRecord[],
  interrupted = false,
  options: { roles?: SidecarManifest["spec"]["roles"]; triesPerExpectation?: number; registry?: ConformanceTest[]; primary?: LoadedManifest<PrimaryManifest> } = {},
): ConformanceReport {
  const certified = options.roles ? { ...sidecar, manifest: { ...sidecar.manifest, spec: { ...sidecar.manifest.spec, roles: options.roles } } } : sidecar;
  const policy = policyRecord(suitePolicy(), root);
  if (options.triesPerExpectation !== undefined) policy.suiteConfig.values = { ...policy.suiteConfig.values, triesPerExpectation: options.triesPerExpectation };
  return buildConformanceReport({
    runId: "run-1",
    date: "2026-01-01T00:00:00.000Z",
    interrupted,
    sidecar: certified,
    primary,
    sidecarFile: "scenarios/sidecars/envoy.yaml",
    primaryFile: "reference/primaries/fastapi-kserve/primary.yaml",
    selection: selectTests({ registry: options.registry ?? registry, sidecar: certified.manifest, primary: (options.primary ?? primary).manifest }),
    records,
    suite: suiteVersion("0.1.0", registry),
    runtime: "local",
    environment,
    policy,
    performance: { status: "not-measured", reason: "--no-performance" },
  });
}

const counts = (c: Partial<VerdictCounts>): VerdictCounts => ({ passed: 0, failed: 0, skipped: 0, notSupported: 0, notRun: 0, ...c });

describe("profile result", () => {
  it("is failure on a core failure, partial when anything else did not pass, success otherwise", () => {
    expect(profileResult(counts({ passed: 3 }), counts({ passed: 1, notSupported: 2 }))).toBe("success");
    expect(profileResult(counts({ passed: 3 }), counts({ failed: 1 }))).toBe("partial");
    expect(profileResult(counts({ passed: 3 }), counts({ skipped: 1 }))).toBe("partial");
    expect(profileResult(counts({ passed: 2, notSupported: 1 }), counts({}))).toBe("partial");
    expect(profileResult(counts({ passed: 2, notRun: 1 }), counts({}))).toBe("partial");
    expect(profileResult(counts({ passed: 2, failed: 1 }), counts({ passed: 5 }))).toBe("failure");
  });
});

describe("conformance report with a primary that lacks what a check needs", () => {
  it("lists the unchecked tests with their cause, and a profile whose core rule went unchecked is partial, not success", async () => {
    const triton = await loadManifest(join(root, "reference/primaries/triton/primary.yaml"), "Primary");
    const withEcho = [...registry, { ...check("proxy.b-echo", "core"), primaryServes: ["debug-endpoints" as const] }];
    const records = [record("resources.idle-memory", "passed"), record("proxy.a-json", "passed"), record("lifecycle.ready", "passed")];
    const r = report(records, false, { registry: withEcho, primary: triton });
    expect(r.notApplicable).toEqual([{ id: "proxy.b-echo", reason: "the primary triton does not serve debug-endpoints; certify with --primary fastapi to run it", cause: "primary" }]);
    const proxy = r.profiles.find((p) => p.name === "proxy")!;
    expect(proxy).toMatchObject({ result: "partial", uncheckedCore: ["proxy.b-echo"] });
    expect(r.result).toBe("partial");
    expect(r.resultReasons).toContain("proxy: core tests need what the primary does not serve (unchecked): proxy.b-echo");
    // The same checks with the FastAPI primary: the echo check is selected and nothing is left unchecked.
    expect(report([...records, { ...record("proxy.a-json", "passed"), id: "proxy.b-echo" }], false, { registry: withEcho }).notApplicable).toEqual([]);
  });
});

describe("conformance report", () => {
  const records = () => [
    record("resources.idle-memory", "passed"),
    record("proxy.z-streaming", "failed", "expected the first token within 50 ms of direct, found 1.2 s", { firstTokenMs: 1200 }),
    record("proxy.a-json", "passed"),
    record("proxy.drain", "not-supported", "needs feature graceful-drain, which envoy does not claim (spec.features)"),
    record("lifecycle.ready", "skipped", "needs cgroup v2"),
  ];

  it("has the versioned header, the implementation and the suite version", () => {
    const r = report(records());
    expect(r).toMatchObject({ apiVersion: "sidecar-bench/v1alpha1", kind: "ConformanceReport", status: "complete", runtime: "local" });
    expect(r.implementation).toMatchObject({ name: "envoy", vendor: "Envoy Proxy", version: "1.40.0", image: "envoyproxy/envoy:v1.40.0", roles: ["proxy"] });
    expect(r.implementation.command[0]).toBe("envoy");
    expect(r.implementation.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.suite).toMatchObject({ version: "0.1.0", testCount: 5 });
  });

  it("sorts profiles and tests by id and computes each profile's result and counts", () => {
    const r = report(records());
    expect(r.profiles.map((p) => p.name)).toEqual(["lifecycle", "proxy", "resources"]);
    const proxy = r.profiles[1]!;
    expect(proxy.tests.map((t) => t.id)).toEqual(["proxy.a-json", "proxy.drain", "proxy.z-streaming"]);
    expect(proxy.result).toBe("partial");
    expect(proxy.core).toEqual(counts({ passed: 1 }));
    expect(proxy.extended).toEqual(counts({ failed: 1, notSupported: 1 }));
    expect(proxy.failedTests).toEqual([{ id: "proxy.z-streaming", level: "extended", message: "expected the first token within 50 ms of direct, found 1.2 s", evidence: { firstTokenMs: 1200 } }]);
    expect(proxy.notSupportedTests.map((t) => t.id)).toEqual(["proxy.drain"]);
    expect(proxy.supportedFeatures).toEqual(["streaming"]);
    expect(proxy.unsupportedFeatures).toEqual(["graceful-drain"]);
    expect(r.profiles[0]!.result).toBe("partial"); // a skipped core test
    expect(r.profiles[2]!.result).toBe("success");
    expect(r.result).toBe("partial");
    expect(r.resultReasons).toEqual(["lifecycle: core tests were skipped: lifecycle.ready", "proxy: extended tests failed: proxy.z-streaming"]);
  });

  it("is partial, saying why, when the manifest claims a role the suite has no tests for — even when every test passed", () => {
    const all = registry.map((t) => record(t.id, t.features.length > 0 && t.id === "proxy.drain" ? "not-supported" : "passed"));
    expect(report(all).result).toBe("success");
    expect(report(all).resultReasons).toEqual([]);
    const withTelemetry = report(all, false, { roles: ["proxy", "telemetry"] });
    expect(withTelemetry.profilesWithoutTests).toEqual(["telemetry"]);
    expect(withTelemetry.profiles.every((p) => p.result === "success")).toBe(true);
    expect(withTelemetry.result).toBe("partial");
    expect(withTelemetry.resultReasons).toEqual(["telemetry: the manifest claims this role, but this suite version has no tests for it (not certified)"]);
    expect(certificationExitCode(withTelemetry)).toBe(0);
  });

  it("writes each test's detection claim, scaled to the run's triesPerExpectation", () => {
    const tests = report(records(), false, { triesPerExpectation: 60 }).profiles.flatMap((p) => p.tests);
    expect(tests.find((t) => t.id === "proxy.a-json")!.detection).toEqual(exchangeClaim(60, "request compared directly and through the sidecar"));
    expect(tests.find((t) => t.id === "lifecycle.ready")!.detection).toEqual(observationClaim("a fake"));
  });

  it("records the policy it was judged by and the manifest's claims (not measured without figures)", () => {
    const r = report(records());
    expect(r.policy).toEqual(policyRecord(suitePolicy(), root));
    expect(r.claims.map((c) => [c.budget, c.claimed, c.result])).toEqual([
      ["idleMemoryMiB", 64, "not measured"],
      ["cpuPer1kRps", 0.5, "not measured"],
      ["timeToReadyMs", 5_000, "not measured"],
      ["addedP99Ms", 1, "not measured"],
    ]);
  });

  it("does not depend on the order verdicts arrived in", () => {
    expect(report(records())).toEqual(report(records().reverse()));
  });

  it("fails the exit rule on a core failure and lists unrun tests of an interrupted run", () => {
    const failed = report([record("proxy.a-json", "failed")]);
    expect(failed.result).toBe("failure");
    expect(certificationExitCode(failed)).toBe(1);
    const interrupted = report([record("lifecycle.ready", "passed")], true);
    expect(interrupted.status).toBe("interrupted");
    expect(interrupted.profiles[1]!.core.notRun).toBe(1);
    expect(interrupted.profiles[1]!.tests[0]).toMatchObject({ id: "proxy.a-json", verdict: "not-run", durationMs: null });
    expect(certificationExitCode(interrupted)).toBe(130);
    expect(interrupted.resultReasons[0]).toBe("the run is interrupted: tests without a verdict count as not run");
  });

  it("is written as YAML, JSON and HTML of the same document, atomically (no temp files left)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-conformance-"));
    const r = report(records());
    writeConformanceReport(r, dir);
    expect(readdirSync(dir).sort()).toEqual(["conformance.json", "conformance.yaml", "report.html"]);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("<code>proxy.z-streaming</code>");
    expect(JSON.parse(readFileSync(join(dir, "conformance.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify(r)));
    expect(parse(readFileSync(join(dir, "conformance.yaml"), "utf8"))).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it("renders a verdict table with every test and the profile results", () => {
    const table = verdictTable(report(records()));
    expect(table).toContain("| proxy.z-streaming | extended | **FAILED** | 12 ms | expected the first token within 50 ms of direct, found 1.2 s |");
    expect(table).toContain("| proxy | partial | 1/0/0/0 | 0/1/0/1 |");
  });
});

describe("suite version", () => {
  it("hashes the registry's ids independently of their order", () => {
    expect(suiteVersion("0.1.0", registry)).toEqual(suiteVersion("0.1.0", [...registry].reverse()));
    expect(suiteVersion("0.1.0", registry).testsSha256).not.toBe(suiteVersion("0.1.0", registry.slice(1)).testsSha256);
  });
});
