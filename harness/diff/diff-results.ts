// diff of two runs' results.json: per variant and metric, the change in the sidecar's
// overhead from base to head with a bootstrap CI, judged against both runs' A/A floors and
// the tolerance.
import { deriveSeed } from "../measure/prng.ts";
import type { Results } from "../report/results-model.ts";
import { median } from "../measure/statistics.ts";
import { MIN_ROUNDS_TO_DECIDE, bootstrapChange, combinedFloor, judgeChange } from "./change-estimate.ts";
import { compareRuns } from "./comparability.ts";
import type { Incomparability, MetricChange } from "./diff-model.ts";
import { METRIC_INFO, OVERHEAD_METRICS, isLatencyMetric, runOverheads } from "./overhead-series.ts";
import { toleranceFor, type Tolerance } from "./tolerance.ts";

export interface RunsDiff {
  incomparable: Incomparability[];
  metrics: MetricChange[];
  warnings: string[];
}

export function diffRuns(base: Results, head: Results, tolerance: Tolerance): RunsDiff {
  const { incomparable, warnings } = compareRuns(base, head);
  if (incomparable.length > 0) return { incomparable, metrics: [], warnings };
  const b = runOverheads(base)!;
  const h = runOverheads(head)!;
  // An analysis without a round every arm completed leaves nothing to bootstrap from.
  for (const [which, run, overheads] of [["base", base, b], ["head", head, h]] as const) {
    if (overheads.rounds.length === 0) incomparable.push({ field: "trials", message: `trials: the ${which} run (${run.runId}) has no round in which every arm (${run.plan.arms.join(", ")}) completed a measured trial` });
  }
  if (incomparable.length > 0) return { incomparable, metrics: [], warnings };
  const metrics: MetricChange[] = [];
  const rounds = Math.min(b.rounds.length, h.rounds.length);
  const cpuDrift = baselineDrift(b.baselineCpuPer1kRps, h.baselineCpuPer1kRps);
  if (typeof cpuDrift === "string") warnings.push(cpuDrift);
  if (rounds < MIN_ROUNDS_TO_DECIDE) warnings.push(tooFewRounds(b.rounds.length, h.rounds.length));
  for (const variant of Object.keys(h.series)) {
    for (const metric of OVERHEAD_METRICS) {
      const baseSeries = b.series[variant]?.[metric];
      const headSeries = h.series[variant]?.[metric];
      if (!baseSeries || !headSeries || baseSeries.length === 0 || headSeries.length === 0) continue;
      if (metric === "cpuPer1kRps" && typeof cpuDrift === "string") continue;
      // One seed per (variant, metric), from the head's recorded seed: the same pair of files gives the same CI.
      const estimate = bootstrapChange(baseSeries, headSeries, deriveSeed(head.plan.seed, `diff/${variant}/${metric}`));
      const toleranceValue = toleranceFor(metric, estimate.base, tolerance);
      const { floor, floorBasis } = metric === "cpuPer1kRps" ? { floor: (cpuDrift as number) * Math.abs(estimate.base), floorBasis: "baseline drift" as const } : isLatencyMetric(metric) ? { floor: combinedFloor(b.floors[metric], h.floors[metric]), floorBasis: "A/A" as const } : { floor: 0, floorBasis: "none" as const };
      const judged = judgeChange(estimate.ci95, floor, toleranceValue);
      const info = METRIC_INFO[metric];
      metrics.push({ variant, metric, label: info.label, unit: info.unit, gating: info.gating, ...estimate, baseFloor: b.floors[metric], headFloor: h.floors[metric], floor, floorBasis, tolerance: toleranceValue, verdict: rounds < MIN_ROUNDS_TO_DECIDE ? "undecided" : judged.verdict });
    }
  }
  if (metrics.length === 0) {
    const why = nothingComparedWhy(base, head);
    warnings.push(`nothing was compared: ${why}`);
    // Exit 0 would read as "no regression" in CI, while nothing was gated: say it is not comparable.
    incomparable.push({ field: "analysis.variants", message: `nothing was compared: ${why}; with nothing to gate, diff exits 2` });
  }
  return { incomparable, metrics, warnings };
}

/**
 * CPU has no A/A figure (the A/A arm shares the baseline's pod). What the runs do show is
 * how far the unchanged bare primary's vCPU per 1000 req/s moved between them (a busier or
 * differently clocked machine): the same share of the sidecar's overhead counts as noise.
 * A base (or head) median of 0 or none (no CPU accounting) gives no such share: the reason,
 * and CPU is not compared, rather than a floor of Infinity or NaN that calls any change noise.
 */
function baselineDrift(base: readonly number[], head: readonly number[]): number | string {
  const [b, h] = [base, head].map((series) => (series.length > 0 ? median(series) : Number.NaN)) as [number, number];
  for (const [which, value] of [["base", b], ["head", h]] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      return `CPU not compared: the ${which} run's bare primary shows ${Number.isFinite(value) ? value : "no"} vCPU per 1000 req/s (median of its paired rounds), so how far the machine drifted between the runs, CPU's noise floor, cannot be taken (no CPU accounting in that run?)`;
    }
  }
  return Math.abs(h / b - 1);
}

function nothingComparedWhy(base: Results, head: Results): string {
  const variants = (run: Results) => run.analysis?.variants.map((v) => v.variant) ?? [];
  if (variants(base).length === 0 && variants(head).length === 0) {
    const notSupported = [...(base.notSupported ?? []), ...(head.notSupported ?? [])];
    return notSupported.length > 0
      ? `no variant was measured: every one was not supported for the workload (${[...new Map(notSupported.map((n) => [n.variant, n.reason])).entries()].map(([v, r]) => `${v}: ${r}`).join("; ")})`
      : "neither run measured a variant (a calibration run has only the baseline and its A/A arm)";
  }
  return `no metric of a variant has figures in both runs (base variants: ${variants(base).join(", ") || "none"}; head: ${variants(head).join(", ") || "none"})`;
}

export function tooFewRounds(baseRounds: number, headRounds: number): string {
  return `base has ${baseRounds} paired rounds, head ${headRounds}: diff decides only with at least ${MIN_ROUNDS_TO_DECIDE} in each run (a bootstrap of a median from fewer knows too few values), so every change is undecided; run with --trials ${MIN_ROUNDS_TO_DECIDE} or more`;
}
