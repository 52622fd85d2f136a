// The experiment's analysis: paired, interleaved trials → a difference with uncertainty,
// compared with the A/A noise floor (DESIGN.md, "Measuring overhead", rules 4-6).
//
// Each trial contributes one observation per metric (e.g. its p99 in µs). Round i ran
// the baseline and the variant back to back, so they share whatever drifted on the
// machine during that round; differencing within the round cancels that drift, which
// is why the estimate is built on paired deltas d_i = variant_i − baseline_i.
import { REPORTED_PERCENTILES, percentileKey } from "./histogram.ts";
import { deriveSeed, type Seed } from "./prng.ts";
import { bootstrapCI, mannWhitneyU, median, wilcoxonSignedRank } from "./statistics.ts";

/** Stated before any run and copied into reports, as rule 5 asks. */
export const OUTLIER_RULE =
  "No trial is dropped, automatically or by hand. Robustness to outlying trials comes from " +
  "using medians (of per-trial percentiles and of the paired deltas) and a bootstrap " +
  "confidence interval, not from excluding data.";

/** What a metric means for the analysis; the analysis itself is generic over names. */
export interface MetricSpec {
  /** Key of the per-trial observation, e.g. "p99" (as in PercentilesUs) or "throughputPerSec". */
  readonly name: string;
  /** Unit of the observations and of the absolute deltas, e.g. "us" or "req/s". */
  readonly unit: string;
  /** Latency: lower is better; throughput: higher is better. Decides slower vs faster. */
  readonly better: "lower" | "higher";
  /**
   * Scale on which the verdict compares the CI with the noise floor: "absolute" in `unit`,
   * or "relative" in % of the baseline (for throughput, whose level depends on the load).
   */
  readonly verdictScale: "absolute" | "relative";
}

export const LATENCY_METRICS: readonly MetricSpec[] = REPORTED_PERCENTILES.map((p) => ({
  name: percentileKey(p),
  unit: "us",
  better: "lower" as const,
  verdictScale: "absolute" as const,
}));

export const THROUGHPUT_METRIC: MetricSpec = {
  name: "throughputPerSec",
  unit: "req/s",
  better: "higher",
  verdictScale: "relative",
};

/** p50, p90, p99, p99_9 (µs) and throughput (req/s). */
export const DEFAULT_METRICS: readonly MetricSpec[] = [...LATENCY_METRICS, THROUGHPUT_METRIC];

/** One metric's observations, index i = round i for both arms. */
export interface PairedSeries {
  readonly baseline: readonly number[];
  readonly variant: readonly number[];
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

export interface PairedDelta {
  readonly metric: string;
  readonly unit: string;
  /** Number of paired rounds (trials per arm). */
  readonly rounds: number;
  /** median over rounds of d_i = variant_i − baseline_i, in `unit`. */
  readonly deltaMedian: number;
  /** Percentile-bootstrap 95% CI of that median (10 000 resamples of the rounds by default). */
  readonly ci95: Interval;
  /** median over rounds of 100 · d_i / baseline_i. */
  readonly deltaMedianPercent: number;
  readonly ci95Percent: Interval;
  /** Two-sided Mann-Whitney U of the two arms' observations, ignoring the pairing. */
  readonly pValueMannWhitney: number;
  /** Two-sided Wilcoxon signed-rank of the paired deltas d_i. */
  readonly pValueWilcoxon: number;
}

/** A/A result for one metric: the baseline measured against itself. */
export interface NoiseFloor extends PairedDelta {
  /** h = max(|ci95.low|, |ci95.high|) in `unit`; the floor is the interval [−h, +h]. */
  readonly halfWidth: number;
  /** The same on the relative scale, in %. */
  readonly halfWidthPercent: number;
}

export type Verdict = "not-distinguishable" | "slower" | "faster";

export interface MetricAnalysis extends PairedDelta {
  readonly verdict: Verdict;
  readonly verdictScale: MetricSpec["verdictScale"];
  /** The A/A half-width h the verdict was decided against, on `verdictScale`. */
  readonly noiseFloorHalfWidth: number;
}

export interface AnalysisOptions {
  /** Recorded seed; every metric bootstraps on its own sub-stream of it. */
  readonly seed: Seed;
  readonly resamples?: number;
}

const CONFIDENCE = 0.95;

function assertPaired(spec: MetricSpec, series: PairedSeries): void {
  const { baseline, variant } = series;
  if (baseline.length === 0) {
    throw new RangeError(`paired analysis of "${spec.name}": no rounds; run at least one baseline/variant pair`);
  }
  if (baseline.length !== variant.length) {
    throw new RangeError(
      `paired analysis of "${spec.name}": baseline has ${baseline.length} trials but variant has ${variant.length}; ` +
        "trials are paired by round, so both arms need one observation per round",
    );
  }
  baseline.forEach((b, i) => {
    if (!(Number.isFinite(b) && b > 0)) {
      throw new RangeError(
        `paired analysis of "${spec.name}": baseline[${i}] is ${String(b)}; relative deltas need a positive, finite baseline`,
      );
    }
  });
  variant.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      throw new RangeError(`paired analysis of "${spec.name}": variant[${i}] is ${String(v)}; expected a finite number`);
    }
  });
}

/** Δ median with bootstrap CI, relative Δ, and both rank tests, for one metric. */
export function pairedDelta(spec: MetricSpec, series: PairedSeries, options: AnalysisOptions): PairedDelta {
  assertPaired(spec, series);
  const { baseline, variant } = series;
  const deltas = variant.map((v, i) => v - (baseline[i] as number));
  const deltasPercent = variant.map((v, i) => (100 * (v - (baseline[i] as number))) / (baseline[i] as number));
  const resamples = options.resamples ?? 10_000;
  const absolute = bootstrapCI(deltas, median, {
    resamples,
    confidence: CONFIDENCE,
    seed: deriveSeed(options.seed, `paired-delta/${spec.name}/absolute`),
  });
  const relative = bootstrapCI(deltasPercent, median, {
    resamples,
    confidence: CONFIDENCE,
    seed: deriveSeed(options.seed, `paired-delta/${spec.name}/relative`),
  });
  return {
    metric: spec.name,
    unit: spec.unit,
    rounds: baseline.length,
    deltaMedian: absolute.estimate,
    ci95: { low: absolute.low, high: absolute.high },
    deltaMedianPercent: relative.estimate,
    ci95Percent: { low: relative.low, high: relative.high },
    pValueMannWhitney: mannWhitneyU(baseline, variant).pValue,
    pValueWilcoxon: wilcoxonSignedRank(deltas).pValue,
  };
}

function halfWidthOf(ci: Interval): number {
  return Math.max(Math.abs(ci.low), Math.abs(ci.high));
}

/**
 * A/A calibration for one metric: `series.baseline` is the baseline arm and
 * `series.variant` the A/A arm (the same baseline run again in the same rounds). Use the
 * same number of rounds as the real comparison: the floor is the widest Δ that pure
 * noise produced at that sample size.
 */
export function calibrateNoiseFloor(spec: MetricSpec, series: PairedSeries, options: AnalysisOptions): NoiseFloor {
  const delta = pairedDelta(spec, series, options);
  return { ...delta, halfWidth: halfWidthOf(delta.ci95), halfWidthPercent: halfWidthOf(delta.ci95Percent) };
}

/**
 * The verdict rule. With h ≥ 0 the A/A half-width, the effect is "not-distinguishable"
 * when the CI [low, high] overlaps the floor [−h, +h], i.e. low ≤ h and high ≥ −h
 * (touching counts as overlap). As 0 lies in the floor, a CI containing 0 is always
 * not distinguishable. Otherwise the whole CI lies above +h or below −h, and the sign
 * together with `better` says whether the variant is slower or faster.
 */
export function decideVerdict(ci: Interval, halfWidth: number, better: MetricSpec["better"]): Verdict {
  if (!(halfWidth >= 0)) throw new RangeError(`decideVerdict: halfWidth must be ≥ 0; got ${String(halfWidth)}`);
  if (ci.low <= halfWidth && ci.high >= -halfWidth) return "not-distinguishable";
  const increased = ci.low > halfWidth;
  return increased === (better === "lower") ? "slower" : "faster";
}

/** The paired comparison of one variant metric, judged against that metric's A/A floor. */
export function analyzeMetric(
  spec: MetricSpec,
  series: PairedSeries,
  floor: NoiseFloor,
  options: AnalysisOptions,
): MetricAnalysis {
  if (floor.metric !== spec.name) {
    throw new RangeError(`analyzeMetric: noise floor is for "${floor.metric}" but the metric is "${spec.name}"`);
  }
  const delta = pairedDelta(spec, series, options);
  const relative = spec.verdictScale === "relative";
  const ci = relative ? delta.ci95Percent : delta.ci95;
  const noiseFloorHalfWidth = relative ? floor.halfWidthPercent : floor.halfWidth;
  return {
    ...delta,
    verdict: decideVerdict(ci, noiseFloorHalfWidth, spec.better),
    verdictScale: spec.verdictScale,
    noiseFloorHalfWidth,
  };
}

/**
 * One metric's series from per-trial records paired by round, e.g. PercentilesUs extended
 * with throughputPerSec. Index i of both arrays must be the same round.
 */
export function seriesForMetric(baselineTrials: readonly object[], variantTrials: readonly object[], metric: string): PairedSeries {
  const pick = (arm: string, trials: readonly object[]): number[] =>
    trials.map((trial, i) => {
      const value = (trial as Record<string, unknown>)[metric];
      if (typeof value !== "number") {
        throw new TypeError(`seriesForMetric: ${arm} trial ${i} has no numeric "${metric}" (got ${String(value)})`);
      }
      return value;
    });
  return { baseline: pick("baseline", baselineTrials), variant: pick("variant", variantTrials) };
}

/** Noise floors for several metrics, keyed by metric name. */
export function calibrateNoiseFloors(
  specs: readonly MetricSpec[],
  baselineTrials: readonly object[],
  aaTrials: readonly object[],
  options: AnalysisOptions,
): Record<string, NoiseFloor> {
  const floors: Record<string, NoiseFloor> = {};
  for (const spec of specs) {
    floors[spec.name] = calibrateNoiseFloor(spec, seriesForMetric(baselineTrials, aaTrials, spec.name), options);
  }
  return floors;
}

/** Analyses of several metrics for one variant, keyed by metric name. */
export function analyzeVariant(
  specs: readonly MetricSpec[],
  baselineTrials: readonly object[],
  variantTrials: readonly object[],
  floors: Readonly<Record<string, NoiseFloor>>,
  options: AnalysisOptions,
): Record<string, MetricAnalysis> {
  const analyses: Record<string, MetricAnalysis> = {};
  for (const spec of specs) {
    const floor = floors[spec.name];
    if (floor === undefined) {
      throw new RangeError(
        `analyzeVariant: no A/A noise floor for "${spec.name}"; run the A/A calibration for every analysed metric`,
      );
    }
    analyses[spec.name] = analyzeMetric(spec, seriesForMetric(baselineTrials, variantTrials, spec.name), floor, options);
  }
  return analyses;
}
