// What one run says each sidecar costs, round by round: for every variant and metric the
// paired overhead of each complete round (variant − baseline in that round, as
// analyze-results.ts pairs them), from which `diff` and the scenario's thresholds
// bootstrap their intervals. Only per-trial figures stored in results.json are used, so a
// results file of any age gives the same series.
import { podVcpuPer1kRps } from "../experiment/analyze-results.ts";
import { bootstrapCI, median } from "../measure/statistics.ts";
import type { Results, TrialResult } from "../report/results-model.ts";
import { BASELINE_VARIANT } from "../scenario/index.ts";
import { BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER } from "../scenario/sidecar-schema.ts";

export const OVERHEAD_METRICS = ["latencyP50", "latencyP99", "serviceP50", "serviceP99", "cpuPer1kRps", "sidecarMemoryMiB"] as const;
export type OverheadMetric = (typeof OVERHEAD_METRICS)[number];

export interface MetricInfo {
  label: string;
  unit: "us" | "vCPU" | "MiB";
  /**
   * Whether a change decides diff's exit code. Service time is shown beside latency but
   * does not gate: latency (from the scheduled send) already contains it, and gating on
   * both would count one slowdown twice while doubling the chances of a false alarm.
   * Sidecar memory is shown only too: a run has one pod per arm, so its CI (over trials of
   * that one pod) knows nothing of how much a fresh start of the same sidecar differs —
   * two runs of one Envoy differed by 1.5 and 2.4 MiB (10–15 %) with CIs of ±0.1 MiB, a
   * false alarm at a 10 % tolerance. An absolute memory SLO is a threshold (memoryMiB).
   */
  gating: boolean;
}

export const METRIC_INFO: Record<OverheadMetric, MetricInfo> = {
  latencyP50: { label: "added latency p50", unit: "us", gating: true },
  latencyP99: { label: "added latency p99", unit: "us", gating: true },
  serviceP50: { label: "added service time p50", unit: "us", gating: false },
  serviceP99: { label: "added service time p99", unit: "us", gating: false },
  cpuPer1kRps: { label: "pod vCPU per 1000 req/s, added", unit: "vCPU", gating: true },
  sidecarMemoryMiB: { label: "sidecar memory (avg MiB)", unit: "MiB", gating: false },
};

export function isLatencyMetric(metric: OverheadMetric): boolean {
  return METRIC_INFO[metric].unit === "us";
}

/** The role backends stand in for services outside the pod: not the sidecar's memory. */
const ROLE_BACKENDS: readonly string[] = [BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER];

export interface RunOverheads {
  /** The complete rounds paired (a sweep: its lightest rate's, like results.analysis). */
  rounds: number[];
  /** Per variant and metric, one value per round; a metric a variant lacks (no sidecar → no sidecar memory) is absent. */
  series: Record<string, Partial<Record<OverheadMetric, number[]>>>;
  /** The bare primary's pod vCPU per 1000 req/s in each round (how busy the machine made it). */
  baselineCpuPer1kRps: number[];
  /** The A/A half-width per metric in the metric's unit; 0 where the run has no A/A arm or the metric no floor (CPU, memory). */
  floors: Record<OverheadMetric, number>;
}

/** Null when the run has no analysis (failed or interrupted before two complete rounds). */
export function runOverheads(results: Results): RunOverheads | null {
  const analysis = results.analysis;
  if (!analysis) return null;
  const variants = analysis.variants.map((v) => v.variant);
  const arms = [BASELINE_VARIANT, ...variants, ...(results.plan.aaArm ? [results.plan.aaArm] : [])];
  const byArm = measuredByArm(results);
  const rounds = pairedRounds(results, byArm, arms);
  const pick = (arm: string) => rounds.map((round) => byArm.get(arm)!.get(round)!);
  const baseline = pick(BASELINE_VARIANT);
  const series: RunOverheads["series"] = {};
  for (const variant of variants) {
    const trials = pick(variant);
    const delta = (value: (t: TrialResult) => number) => trials.map((t, i) => value(t) - value(baseline[i]!));
    const sidecars = sidecarContainers(results, variant);
    series[variant] = {
      latencyP50: delta((t) => t.latencyUs.p50),
      latencyP99: delta((t) => t.latencyUs.p99),
      serviceP50: delta((t) => t.serviceTimeUs.p50),
      serviceP99: delta((t) => t.serviceTimeUs.p99),
      cpuPer1kRps: delta(podVcpuPer1kRps),
      ...(sidecars.length > 0 ? { sidecarMemoryMiB: trials.map((t) => sum(t.resources.filter((r) => sidecars.includes(r.container)).map((r) => r.memoryAvgMiB))) } : {}),
    };
  }
  const latencyFloor = analysis.noiseFloor?.latency;
  const serviceFloor = analysis.noiseFloor?.serviceTime;
  return {
    rounds,
    series,
    baselineCpuPer1kRps: baseline.map(podVcpuPer1kRps),
    floors: {
      latencyP50: latencyFloor?.["p50"]?.halfWidth ?? 0,
      latencyP99: latencyFloor?.["p99"]?.halfWidth ?? 0,
      serviceP50: serviceFloor?.["p50"]?.halfWidth ?? 0,
      serviceP99: serviceFloor?.["p99"]?.halfWidth ?? 0,
      // No A/A floor exists for resources: the A/A arm runs on the baseline's pod, whose
      // usage in a round is one figure for both arms. The CIs and the tolerance decide.
      cpuPer1kRps: 0,
      sidecarMemoryMiB: 0,
    },
  };
}

/** Median with a percentile-bootstrap 95% CI, as the paired analysis reports its Δs. */
export function medianWithCi(values: readonly number[], seed: number): { estimate: number; ci95: { low: number; high: number } } {
  const { estimate, low, high } = bootstrapCI(values, median, { resamples: 10_000, confidence: 0.95, seed });
  return { estimate, ci95: { low, high } };
}

function measuredByArm(results: Results): Map<string, Map<number, TrialResult>> {
  const byArm = new Map<string, Map<number, TrialResult>>();
  for (const trial of results.trials) {
    if (trial.warmup || trial.round === null) continue;
    if (!byArm.has(trial.arm)) byArm.set(trial.arm, new Map());
    byArm.get(trial.arm)!.set(trial.round, trial);
  }
  return byArm;
}

/** Rounds every arm completed; for a sweep only its lightest rate's, which is what results.analysis describes. */
function pairedRounds(results: Results, byArm: Map<string, Map<number, TrialResult>>, arms: string[]): number[] {
  const rates = results.plan.steps.filter((s) => s.round !== null && s.ratePerSec !== undefined);
  const lightest = rates.length > 0 ? Math.min(...rates.map((s) => s.ratePerSec!)) : null;
  const atLightest = new Set(rates.filter((s) => s.ratePerSec === lightest).map((s) => s.round!));
  const first = byArm.get(arms[0]!);
  if (!first) return [];
  return [...first.keys()]
    .filter((round) => arms.every((arm) => byArm.get(arm)?.has(round)) && (lightest === null || atLightest.has(round)))
    .sort((a, b) => a - b);
}

function sidecarContainers(results: Results, variant: string): string[] {
  const pod = results.pods.find((p) => p.arms.includes(variant));
  return (pod?.containers ?? []).filter((c) => c.kind === "sidecar" && !ROLE_BACKENDS.includes(c.name)).map((c) => c.name);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
