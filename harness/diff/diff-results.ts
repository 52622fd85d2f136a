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
  const metrics: MetricChange[] = [];
  const rounds = Math.min(b.rounds.length, h.rounds.length);
  // CPU has no A/A figure (the A/A arm shares the baseline's pod). What the runs do show is
  // how far the unchanged bare primary's vCPU per 1000 req/s moved between them (a busier or
  // differently clocked machine): the same share of the sidecar's overhead counts as noise.
  const cpuDrift = Math.abs(median(h.baselineCpuPer1kRps) / median(b.baselineCpuPer1kRps) - 1);
  if (rounds < MIN_ROUNDS_TO_DECIDE) warnings.push(tooFewRounds(b.rounds.length, h.rounds.length));
  for (const variant of Object.keys(h.series)) {
    for (const metric of OVERHEAD_METRICS) {
      const baseSeries = b.series[variant]?.[metric];
      const headSeries = h.series[variant]?.[metric];
      if (!baseSeries || !headSeries) continue;
      // One seed per (variant, metric), from the head's recorded seed: the same pair of files gives the same CI.
      const estimate = bootstrapChange(baseSeries, headSeries, deriveSeed(head.plan.seed, `diff/${variant}/${metric}`));
      const toleranceValue = toleranceFor(metric, estimate.base, tolerance);
      const { floor, floorBasis } = metric === "cpuPer1kRps" ? { floor: cpuDrift * Math.abs(estimate.base), floorBasis: "baseline drift" as const } : isLatencyMetric(metric) ? { floor: combinedFloor(b.floors[metric], h.floors[metric]), floorBasis: "A/A" as const } : { floor: 0, floorBasis: "none" as const };
      const judged = judgeChange(estimate.ci95, floor, toleranceValue);
      const info = METRIC_INFO[metric];
      metrics.push({ variant, metric, label: info.label, unit: info.unit, gating: info.gating, ...estimate, baseFloor: b.floors[metric], headFloor: h.floors[metric], floor, floorBasis, tolerance: toleranceValue, verdict: rounds < MIN_ROUNDS_TO_DECIDE ? "undecided" : judged.verdict });
    }
  }
  return { incomparable, metrics, warnings };
}

export function tooFewRounds(baseRounds: number, headRounds: number): string {
  return `base has ${baseRounds} paired rounds, head ${headRounds}: diff decides only with at least ${MIN_ROUNDS_TO_DECIDE} in each run (a bootstrap of a median from fewer knows too few values), so every change is undecided; run with --trials ${MIN_ROUNDS_TO_DECIDE} or more`;
}
