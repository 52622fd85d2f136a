// The change in a sidecar's overhead between two runs (head − base) with a 95% CI, and
// whether it is a regression. Two ways to get the CI, depending on what the inputs hold:
//
// - bootstrap (results.json, and certificates whose benchmark results are beside them):
//   the two runs are independent samples of paired rounds, so each resample draws base
//   rounds from base and head rounds from head (with replacement, each run's own size)
//   and takes median(head overheads) − median(base overheads); the CI is the 2.5/97.5
//   percentiles of 10 000 such differences. This keeps each run's pairing (the overhead
//   of a round is variant − baseline of that round) and needs no normality.
// - interval-sum (certificates with figures only): [head.low − base.high, head.high −
//   base.low]. Conservative: it is as wide as the sum of both half-widths, wider than the
//   root-sum-square a normal approximation would give, so it covers at least 95%.
import { median, quantile } from "../measure/statistics.ts";
import { createPrng } from "../measure/prng.ts";

export interface Interval {
  low: number;
  high: number;
}

export interface ChangeEstimate {
  /** The base run's overhead (median), the head run's, and head − base. */
  base: number;
  head: number;
  change: number;
  ci95: Interval;
  method: "bootstrap" | "interval-sum";
}

const RESAMPLES = 10_000;

export function bootstrapChange(base: readonly number[], head: readonly number[], seed: number): ChangeEstimate {
  if (base.length === 0 || head.length === 0) throw new RangeError("bootstrapChange: each run needs at least one round");
  const prng = createPrng(seed, "diff-bootstrap");
  const b = new Array<number>(base.length);
  const h = new Array<number>(head.length);
  const changes = new Array<number>(RESAMPLES);
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < base.length; i++) b[i] = base[prng.nextInt(base.length)]!;
    for (let i = 0; i < head.length; i++) h[i] = head[prng.nextInt(head.length)]!;
    changes[r] = median(h) - median(b);
  }
  const baseMedian = median(base);
  const headMedian = median(head);
  return { base: baseMedian, head: headMedian, change: headMedian - baseMedian, ci95: { low: quantile(changes, 0.025), high: quantile(changes, 0.975) }, method: "bootstrap" };
}

/** From each run's estimate and CI alone; a figure without a CI counts as exact. */
export function intervalChange(base: { estimate: number; ci95?: Interval }, head: { estimate: number; ci95?: Interval }): ChangeEstimate {
  const b = base.ci95 ?? { low: base.estimate, high: base.estimate };
  const h = head.ci95 ?? { low: head.estimate, high: head.estimate };
  return { base: base.estimate, head: head.estimate, change: head.estimate - base.estimate, ci95: { low: h.low - b.high, high: h.high - b.low }, method: "interval-sum" };
}

/** undecided: too few rounds in a run to bootstrap from (MIN_ROUNDS_TO_DECIDE). */
export type ChangeVerdict = "regression" | "improvement" | "within-noise" | "undecided";

/**
 * Rounds each run needs before diff calls a change. A percentile bootstrap of a median
 * resamples the values it has: from 2 rounds it knows 3 medians and its "95% CI" is little
 * more than the range of what happened once — on a shared machine two 2-round runs of the
 * same Envoy differed by 24 ms at p50 with such a CI clear of zero. From 5 rounds on, the
 * interval has enough distinct resamples to mean what it says.
 */
export const MIN_ROUNDS_TO_DECIDE = 5;

export interface Judgement {
  verdict: ChangeVerdict;
  /** What the CI must clear: max(floor, tolerance). */
  margin: number;
}

/**
 * Each run's A/A floor h says how large a Δ pure noise produced in that run; a change is
 * a difference of two such Δs, so its floor is √(h_base² + h_head²) (independent runs),
 * which is never below either floor: a change beyond it is beyond both.
 */
export function combinedFloor(baseFloor: number, headFloor: number): number {
  return Math.hypot(baseFloor, headFloor);
}

/**
 * A regression's whole CI lies above both the floor and the tolerance; an improvement's
 * below their negatives; anything else is within noise. Higher is worse for every
 * overhead metric.
 */
export function judgeChange(ci95: Interval, floor: number, tolerance: number): Judgement {
  const margin = Math.max(floor, tolerance);
  const verdict = ci95.low > margin ? "regression" : ci95.high < -margin ? "improvement" : "within-noise";
  return { verdict, margin };
}
