import { describe, expect, it } from "vitest";
import type { MetricAnalysis } from "../measure/paired-analysis.ts";
import type { EpisodeResult, EquivalenceResult, PodStructure, StreamRecord, StreamWindow } from "./comparison-model.ts";
import {
  complexityCell,
  complexityLevel,
  couplingCell,
  faultIsolationCell,
  lifecycleCell,
  lockInCell,
  overheadCell,
  polyglotCell,
  primaryAffected,
  resourceIsolationCell,
} from "./row-verdicts.ts";

const RULE = { minAvailabilityPct: 99, maxP99Ratio: 3 };

function delta(median: number, low: number, high: number, verdict: MetricAnalysis["verdict"] = "slower", floor = 8): MetricAnalysis {
  return {
    metric: "p50",
    unit: "us",
    rounds: 12,
    deltaMedian: median,
    ci95: { low, high },
    deltaMedianPercent: 0,
    ci95Percent: { low: 0, high: 0 },
    pValueMannWhitney: 0.01,
    pValueWilcoxon: 0.01,
    verdict,
    verdictScale: "absolute",
    noiseFloorHalfWidth: floor,
  };
}

const window = (sent: number, ok: number, p99Us: number): StreamWindow => ({ sent, ok, failed: sent - ok, availabilityPct: (100 * ok) / sent, p50Us: p99Us / 2, p99Us });
/** The p99 ratio's CI is taken as ±20 % around the windows' ratio unless given. */
const stream = (target: StreamRecord["target"], during: StreamWindow, recoverMs: number | null = 0, ratio?: StreamRecord["p99Ratio"]): StreamRecord => {
  const estimate = during.p99Us! / 1_000;
  return {
    target,
    ratePerSec: 100,
    before: window(200, 200, 1_000),
    during,
    errors: {},
    timeToRecoverMs: recoverMs,
    p99Ratio: ratio ?? { estimate, low: estimate * 0.8, high: estimate * 1.2 },
    timeline: [],
  };
};

/** An episode in which, by default, the fault took effect and the primary was untouched. */
function episode(overrides: Partial<EpisodeResult> & { primaryDuring?: StreamWindow; entryDuring?: StreamWindow; primaryRatio?: StreamRecord["p99Ratio"] } = {}): EpisodeResult {
  const { primaryDuring, entryDuring, primaryRatio, ...rest } = overrides;
  return {
    column: "sidecar",
    variant: "sidecar",
    kind: "crash",
    unit: "request-guard-sidecar",
    trigger: { how: "POST /aux/fault/crash", atMs: 2000, accepted: true, detail: "202" },
    limits: { unit: { memoryMiB: 128, cpus: 0.5 }, primary: { memoryMiB: 768, cpus: 1 } },
    streams: [stream("entry", entryDuring ?? window(600, 590, 2_000), 300), stream("primary", primaryDuring ?? window(300, 300, 1_200), 0, primaryRatio)],
    primary: { pidBefore: 10, pidAfter: 10, modelLoadedAtBefore: 1, modelLoadedAtAfter: 1, restarted: false, modelReloaded: false, oomKilled: false },
    containers: [{ container: "request-guard-sidecar", restarts: 1, exits: ["killed by SIGSEGV"], oomKills: 0, memoryPeakMiB: 10, vcpuDuring: 0.1, throttledPeriods: 0 }],
    faultTookEffect: true,
    timelineBinMs: 250,
    error: null,
    ...rest,
  };
}
const primaryDied = { primary: { pidBefore: 10, pidAfter: 11, modelLoadedAtBefore: 1, modelLoadedAtAfter: 2, restarted: true, modelReloaded: true, oomKilled: false } };

describe("overhead per request", () => {
  it("holds '< 1 ms' when the whole CI of Δp50 is below 1 ms", () => {
    const cell = overheadCell("sidecar", delta(205, 186, 237), delta(529, 443, 1140));
    expect(cell.verdict).toBe("holds");
    expect(cell.measured).toBe("Δp50 +205 µs [+186, +237]; Δp99 +529 µs [+443, +1140]");
  });

  it("refutes '< 0.1 ms' when the whole CI is above 100 µs", () => {
    expect(overheadCell("library", delta(150, 130, 170), undefined).verdict).toBe("refuted");
  });

  it("is not distinguishable when the CI straddles the claimed bound", () => {
    expect(overheadCell("library", delta(95, 80, 120), undefined).verdict).toBe("not-distinguishable");
    expect(overheadCell("sidecar", delta(990, 900, 1100), undefined).verdict).toBe("not-distinguishable");
  });

  it("holds '0 ms' inside the A/A floor and refutes it outside", () => {
    const inside = overheadCell("monolithic", delta(3, -4, 7, "not-distinguishable", 8), undefined);
    expect(inside.verdict).toBe("holds");
    expect(inside.measured).toBe("Δp50 inside the A/A floor ±8 µs");
    const outside = overheadCell("monolithic", delta(60, 52, 70, "slower", 8), undefined);
    expect(outside.verdict).toBe("refuted");
    expect(outside.measured).toBe("Δp50 +60 µs [+52, +70]");
  });

  it("says 'not measured' without an analysis", () => {
    expect(overheadCell("sidecar", undefined, undefined)).toMatchObject({ verdict: "not-distinguishable", measured: "not measured" });
  });
});

describe("primaryAffected (the isolation rule)", () => {
  it("finds nothing when the primary kept its process, its answers and its latency", () => {
    expect(primaryAffected(episode(), RULE)).toEqual({ impact: "unaffected", reasons: [] });
  });

  it("names every way the primary suffered", () => {
    const result = primaryAffected(
      episode({ ...primaryDied, primary: { ...primaryDied.primary, oomKilled: true }, primaryDuring: window(300, 200, 5_000) }),
      RULE,
    );
    expect(result.impact).toBe("affected");
    expect(result.reasons).toEqual([
      "the primary was OOM-killed",
      "the primary restarted (pid 10 → 11)",
      "the primary answered 66.7% of the requests sent straight to it (rule: ≥ 99%)",
      "its p99 went 1.00 ms → 5.00 ms, ×5.0 [95% CI ×4.0, ×6.0]; rule: ≤ ×3",
    ]);
  });

  it("decides the latency criterion by the CI of the p99 ratio: all above the rule, all within it, or undecided", () => {
    const withRatio = (low: number, high: number) => episode({ primaryDuring: window(300, 300, 3_000), primaryRatio: { estimate: 3, low, high } });
    expect(primaryAffected(withRatio(3.2, 4.5), RULE).impact).toBe("affected");
    expect(primaryAffected(withRatio(1.5, 3), RULE).impact).toBe("unaffected");
    const straddling = primaryAffected(withRatio(2.1, 4.2), RULE);
    expect(straddling).toEqual({ impact: "undecided", reasons: ["its p99 went 1.00 ms → 3.00 ms, ×3.0 [95% CI ×2.1, ×4.2]; rule: ≤ ×3"] });
  });

  it("lets a fact (a restart) decide even when the latency criterion is undecided", () => {
    const result = primaryAffected(episode({ ...primaryDied, primaryDuring: window(300, 300, 3_000), primaryRatio: { estimate: 3, low: 2, high: 4 } }), RULE);
    expect(result.impact).toBe("affected");
  });
});

describe("resource isolation", () => {
  const balloon = (o: Parameters<typeof episode>[0] = {}) => episode({ kind: "memory-balloon", ...o });
  const spin = (o: Parameters<typeof episode>[0] = {}) => episode({ kind: "cpu-spin", ...o });

  it("holds for a sidecar whose misbehaviour left the primary untouched in both episodes", () => {
    const cell = resourceIsolationCell("sidecar", [balloon(), spin()], RULE);
    expect(cell.verdict).toBe("holds");
    expect(cell.measured).toMatch(/^yes — memory-balloon: the primary was unaffected/);
  });

  it("refutes the sidecar's 'yes' when a balloon in the sidecar took the primary down", () => {
    const cell = resourceIsolationCell("sidecar", [balloon({ ...primaryDied, primary: { ...primaryDied.primary, oomKilled: true } }), spin()], RULE);
    expect(cell.verdict).toBe("refuted");
    expect(cell.measured).toMatch(/^no — memory-balloon: the primary was OOM-killed/);
  });

  it("holds the monolith's 'no' when the primary was OOM-killed, and refutes it when it was not", () => {
    const killed = balloon({ column: "monolithic", unit: "primary", ...primaryDied, primary: { ...primaryDied.primary, oomKilled: true } });
    expect(resourceIsolationCell("monolithic", [killed, spin({ column: "monolithic" })], RULE).verdict).toBe("holds");
    expect(resourceIsolationCell("monolithic", [balloon({ column: "monolithic" }), spin({ column: "monolithic" })], RULE).verdict).toBe("refuted");
  });

  it("is not distinguishable when the primary's p99 growth straddles the rule", () => {
    const spinning = spin({ primaryDuring: window(300, 300, 3_000), primaryRatio: { estimate: 3.2, low: 2.4, high: 4.1 } });
    const cell = resourceIsolationCell("sidecar", [balloon(), spinning], RULE);
    expect(cell.verdict).toBe("not-distinguishable");
    expect(cell.measured).toMatch(/cpu-spin: undecided: its p99 went 1.00 ms → 3.00 ms, ×3.2 \[95% CI ×2.4, ×4.1\]/);
  });

  it("decides nothing from an episode whose fault did not take effect", () => {
    const cell = resourceIsolationCell("sidecar", [balloon({ faultTookEffect: false }), spin()], RULE);
    expect(cell.verdict).toBe("not-distinguishable");
    expect(cell.measured).toMatch(/memory-balloon: the fault did not take effect/);
    expect(resourceIsolationCell("library", [], RULE).verdict).toBe("not-distinguishable");
  });
});

describe("independent lifecycle and fault isolation", () => {
  it("holds 'independent' when the primary kept pid and model through the function's restart", () => {
    const cell = lifecycleCell("sidecar", episode({ kind: "restart" }));
    expect(cell.verdict).toBe("holds");
    expect(cell.measured).toMatch(/^yes — restarting the function left the primary's process \(pid 10\)/);
    expect(cell.measured).toMatch(/clients: 10 of 600 requests failed, recovered in 300 ms/);
  });

  it("refutes the sidecar's 'yes' when restarting it restarted the primary, and holds the library's 'no' then", () => {
    expect(lifecycleCell("sidecar", episode({ kind: "restart", ...primaryDied })).verdict).toBe("refuted");
    expect(lifecycleCell("library", episode({ kind: "restart", column: "library", ...primaryDied })).verdict).toBe("holds");
  });

  it("refutes the monolith's 'no' if the function could be restarted without the primary", () => {
    expect(lifecycleCell("monolithic", episode({ kind: "restart", column: "monolithic" })).verdict).toBe("refuted");
  });

  it("holds fault isolation for the sidecar when only the sidecar died, and refutes it otherwise", () => {
    expect(faultIsolationCell("sidecar", episode(), RULE).verdict).toBe("holds");
    expect(faultIsolationCell("sidecar", episode({ ...primaryDied }), RULE).verdict).toBe("refuted");
    expect(faultIsolationCell("library", episode({ column: "library", ...primaryDied }), RULE).verdict).toBe("holds");
  });

  it("is undecided when the crash trigger was refused or the episode failed", () => {
    const refused = faultIsolationCell("sidecar", episode({ trigger: { how: "POST", atMs: 2000, accepted: false, detail: "404 not found" } }), RULE);
    expect(refused).toMatchObject({ verdict: "not-distinguishable", measured: "undecided — the fault was not triggered: 404 not found" });
    expect(lifecycleCell("sidecar", episode({ error: "pod did not start" })).verdict).toBe("not-distinguishable");
    expect(lifecycleCell("sidecar", undefined).measured).toBe("undecided — not run");
  });
});

const structure = (o: Partial<PodStructure> = {}): PodStructure => ({
  variant: "baseline",
  containers: 1,
  processes: 1,
  ports: 1,
  configFiles: [{ file: "primary.yaml", lines: 30 }],
  startupDependencies: 0,
  probes: 2,
  artifacts: ["python"],
  ...o,
});
const sidecarPod = structure({ variant: "sidecar", containers: 2, processes: 2, ports: 3, startupDependencies: 1, probes: 4, artifacts: ["aux-proxy", "python"] });

describe("deployment complexity", () => {
  it("grades pods by what they add to the bare primary", () => {
    expect(complexityLevel(structure(), structure())).toBe("low");
    expect(complexityLevel(sidecarPod, structure())).toBe("medium");
    expect(complexityLevel(structure({ containers: 3 }), structure())).toBe("high");
    expect(complexityLevel(structure({ ports: 2 }), structure())).toBe("medium");
  });

  it("holds 'medium-high' for the sidecar pod and 'low' for a one-container pod; refutes 'low' for a pod that grew a container", () => {
    expect(complexityCell("sidecar", sidecarPod, structure()).verdict).toBe("holds");
    expect(complexityCell("sidecar", sidecarPod, structure()).measured).toBe(
      "medium — 2 container(s), 2 process(es), 3 port(s), 1 config file(s) / 30 lines, 1 start-up dependency, 2 artifact(s) to build",
    );
    expect(complexityCell("monolithic", structure({ variant: "monolithic" }), structure()).verdict).toBe("holds");
    expect(complexityCell("library", sidecarPod, structure()).verdict).toBe("refuted");
  });
});

function equivalence(column: EquivalenceResult["column"], facts: Partial<EquivalenceResult["facts"]> = {}, passed = true): EquivalenceResult {
  const inProcess = column !== "sidecar";
  return {
    column,
    variant: column,
    passed,
    checks: [{ name: "rejects-missing-key", passed, detail: passed ? "401" : "200" }],
    facts: {
      integration: column,
      language: inProcess ? "python" : "go",
      runtime: inProcess ? "CPython 3.11.7" : "go1.26.8",
      version: "1.0.0",
      functionPid: inProcess ? 10 : 20,
      primaryPid: 10,
      primaryLanguage: "Python",
      ...facts,
    },
  };
}

describe("coupling, polyglot support and lock-in, from observed facts", () => {
  it("holds the article's claims for the integrations as built", () => {
    expect(couplingCell("sidecar", equivalence("sidecar"), sidecarPod, structure()).verdict).toBe("holds");
    expect(couplingCell("library", equivalence("library"), structure(), structure()).verdict).toBe("holds");
    expect(polyglotCell("sidecar", equivalence("sidecar")).measured).toBe("yes — the function in go1.26.8 serves a Python primary over HTTP");
    expect(polyglotCell("sidecar", equivalence("sidecar")).verdict).toBe("holds");
    expect(polyglotCell("monolithic", equivalence("monolithic")).verdict).toBe("holds");
    expect(polyglotCell("library", equivalence("library")).verdict).toBe("holds");
    expect(lockInCell("sidecar", equivalence("sidecar")).verdict).toBe("holds");
    expect(lockInCell("monolithic", equivalence("monolithic")).verdict).toBe("holds");
  });

  it("refutes 'tight' and 'locked in' for a 'monolithic' function that turned out to run in its own process", () => {
    const ownProcess = equivalence("monolithic", { functionPid: 99 });
    expect(couplingCell("monolithic", ownProcess, sidecarPod, structure()).verdict).toBe("refuted");
    expect(lockInCell("monolithic", ownProcess).verdict).toBe("refuted");
  });

  it("does not count a sidecar in the primary's own language as shown polyglot support", () => {
    const cell = polyglotCell("sidecar", equivalence("sidecar", { language: "Python", runtime: "CPython 3.11.7" }));
    expect(cell.verdict).toBe("not-distinguishable");
    expect(cell.measured).toBe("not shown — the function and the primary are both Python");
  });

  it("is undecided when the integration failed the equivalence check", () => {
    expect(polyglotCell("sidecar", equivalence("sidecar", {}, false))).toMatchObject({ verdict: "not-distinguishable", measured: "undecided — the equivalence check failed (rejects-missing-key)" });
    expect(couplingCell("sidecar", undefined, sidecarPod, structure()).verdict).toBe("not-distinguishable");
  });
});
