import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { idleMemory } from "../../suites/resources/idle-memory.ts";
import type { PodRuntime, PodSpec, StartedPod } from "../runtime/pod-runtime.ts";
import { loadManifest, type LoadedManifest, type PrimaryManifest, type SidecarManifest } from "../scenario/index.ts";
import { suitePolicy, type EffectivePolicy } from "./certification-policy.ts";
import { judgeClaims } from "./claims.ts";
import type { PerformanceFigures } from "./performance.ts";
import { runCheck } from "./run-check.ts";
import type { VerdictRecord } from "./verdict-record.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MIB = 1024 * 1024;

let envoy: LoadedManifest<SidecarManifest>;
let primary: LoadedManifest<PrimaryManifest>;
beforeAll(async () => {
  envoy = await loadManifest(join(root, "scenarios/sidecars/envoy.yaml"), "Sidecar");
  primary = await loadManifest(join(root, "reference/primaries/fastapi-kserve/primary.yaml"), "Primary");
});

function claiming(budgets: NonNullable<SidecarManifest["spec"]["budgets"]>): LoadedManifest<SidecarManifest> {
  return { ...envoy, manifest: { ...envoy.manifest, spec: { ...envoy.manifest.spec, budgets } } };
}

/** Pods whose sidecar always reports `memoryMiB`. */
function runtimeWithMemory(memoryMiB: number): PodRuntime {
  return {
    getName: () => "fake",
    async startPod(spec: PodSpec): Promise<StartedPod> {
      return {
        spec,
        url: () => "http://127.0.0.1:1",
        port: () => 1,
        status: () => [],
        stats: async () => ({ cpuUsageUs: 0, memoryBytes: memoryMiB * MIB, source: "proc", sampledAtMs: 0 }),
        logs: () => [],
        signal: () => {},
        restart: async () => {},
        events: () => [],
        stop: async () => ({ containers: [], stopDurationMs: 0, events: [] }),
      };
    },
    stopAll: async () => {},
    reapOrphans: async () => [],
  };
}

/** The suite's policy with the idle check's waits shortened (the fake pod has nothing to settle). */
function quickPolicy(idleMemoryMiB?: number): EffectivePolicy {
  const policy = suitePolicy();
  return {
    ...policy,
    thresholds: { ...policy.thresholds, resources: { ...policy.thresholds.resources, ...(idleMemoryMiB ? { idleMemoryMiB } : {}) } },
    suite: { ...policy.suite, idleSettleMs: 1, idleSampleGapMs: 1 },
  };
}

async function idleVerdict(sidecar: LoadedManifest<SidecarManifest>, memoryMiB: number, policy = quickPolicy()): Promise<VerdictRecord> {
  return runCheck({ test: idleMemory, target: { sidecar, primary, runtime: runtimeWithMemory(memoryMiB), runId: "claims-test", policy } });
}

const notMeasured = { status: "not-measured", reason: "--no-performance" } as const;

describe("claims never change a verdict: the policy decides", () => {
  it("a manifest claiming a huge budget still fails when the policy's bound is exceeded", async () => {
    const record = await idleVerdict(claiming({ idleMemoryMiB: 100_000 }), 300);
    expect(record.verdict).toBe("failed");
    expect(record.message).toBe("expected idle memory ≤ the policy's 128 MiB; measured 300 MiB (proc)");
    expect(judgeClaims(claiming({ idleMemoryMiB: 100_000 }).manifest, [record], notMeasured)).toEqual([
      { budget: "idleMemoryMiB", claimed: 100_000, unit: "MiB", measured: 300, source: "resources.idle-memory", result: "claim holds" },
    ]);
  });

  it("a tight claim that is exceeded is reported as such, and the check still passes within the policy", async () => {
    const sidecar = claiming({ idleMemoryMiB: 8 });
    const record = await idleVerdict(sidecar, 40);
    expect(record.verdict).toBe("passed");
    expect(judgeClaims(sidecar.manifest, [record], notMeasured)).toEqual([
      { budget: "idleMemoryMiB", claimed: 8, unit: "MiB", measured: 40, source: "resources.idle-memory", result: "claim exceeded" },
    ]);
  });

  it("the certifier's policy file, not the manifest, moves the bound", async () => {
    expect((await idleVerdict(claiming({ idleMemoryMiB: 8 }), 40, quickPolicy(32))).verdict).toBe("failed");
    expect((await idleVerdict(claiming({ idleMemoryMiB: 8 }), 40, quickPolicy(64))).verdict).toBe("passed");
  });
});

describe("judgeClaims", () => {
  const figures = (p50: [number, number, number], p99: [number, number, number]): PerformanceFigures => {
    const delta = ([deltaUs, low, high]: [number, number, number]) => ({ baselineUs: 400, deltaUs, ci95Us: { low, high }, noiseFloorUs: 50, verdict: "slower" as const, pValueWilcoxon: 0.01 });
    return {
      status: "measured",
      workload: "test",
      rounds: 10,
      addedLatency: { p50: delta(p50), p99: delta(p99) },
      sidecar: { container: "envoy", vcpu: 0.05, vcpuPer1kRps: 0.24, memoryAvgMiB: 15, memoryPeakMiB: 16, idleMemoryMiB: 14.5, timeToReadyMs: 230 },
      podVcpuPer1kRpsDelta: 0.3,
      accounting: "cgroup-v1",
      pinning: "split",
      loadGenerator: "sidecar-bench open loop",
      warnings: [],
      resultsDir: "performance",
    };
  };

  it("judges latency claims by the whole 95% CI: holds, exceeded, or inconclusive when it straddles the claim", () => {
    const sidecar = claiming({ addedP50Ms: 0.5, addedP99Ms: 1 }).manifest;
    expect(judgeClaims(sidecar, [], figures([200, 150, 260], [900, 600, 1_300]))).toEqual([
      { budget: "addedP50Ms", claimed: 0.5, unit: "ms", measured: 0.2, ci95: { low: 0.15, high: 0.26 }, source: "performance", result: "claim holds" },
      { budget: "addedP99Ms", claimed: 1, unit: "ms", measured: 0.9, ci95: { low: 0.6, high: 1.3 }, source: "performance", result: "inconclusive" },
    ]);
    expect(judgeClaims(claiming({ addedP99Ms: 0.5 }).manifest, [], figures([200, 150, 260], [900, 600, 1_300]))[0]!.result).toBe("claim exceeded");
  });

  it("prefers a check's own figure to the benchmark's, and takes the benchmark's where no check measured", () => {
    const sidecar = claiming({ idleMemoryMiB: 64, cpuPer1kRps: 0.2, timeToReadyMs: 5_000 }).manifest;
    const record = { id: "resources.idle-memory", measured: { idleMemoryMiB: 20 } } as unknown as VerdictRecord;
    expect(judgeClaims(sidecar, [record], figures([0, 0, 0], [0, 0, 0])).map((c) => [c.budget, c.measured, c.source, c.result])).toEqual([
      ["idleMemoryMiB", 20, "resources.idle-memory", "claim holds"],
      ["cpuPer1kRps", 0.24, "performance", "claim exceeded"],
      ["timeToReadyMs", 230, "performance", "claim holds"],
    ]);
  });

  it("says why a claim was not measured, and lists nothing a manifest does not claim", () => {
    expect(judgeClaims(claiming({ addedP99Ms: 1 }).manifest, [], notMeasured)).toEqual([
      { budget: "addedP99Ms", claimed: 1, unit: "ms", measured: null, source: null, result: "not measured", note: "no check measured it, and the benchmark did not: --no-performance" },
    ]);
    expect(judgeClaims(claiming({}).manifest, [], notMeasured)).toEqual([]);
  });
});
