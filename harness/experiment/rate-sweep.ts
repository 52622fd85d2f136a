// Rate sweeps: the same paired, interleaved rounds at several open-loop rates, so latency
// is seen against load (a curve, not a spot) and each arm's knee — the highest rate it
// sustains — is found from measurements. Pure functions: the rates a sweep visits, each
// arm's curve with bootstrap CIs, and the knee by a rule stated before running.
import { totalErrors } from "../load/load-errors.ts";
import { deriveSeed } from "../measure/prng.ts";
import { bootstrapCI, median, type BootstrapEstimate } from "../measure/statistics.ts";
import type { TrialResult } from "../report/results-model.ts";

export interface SweepSpec {
  /** Explicit rates, ascending. */
  ratesPerSec?: number[];
  /** Or a geometric ladder from..to in `steps` rates (each step the same ratio). */
  fromPerSec?: number;
  toPerSec?: number;
  steps?: number;
  /** A rate is past the knee when its p99 is clearly (CI low) above this multiple of the lightest rate's p99. */
  kneeP99Factor: number;
}

/** The rates a sweep visits, ascending; rounded to 0.1 req/s so reports show what ran. */
export function sweepRates(spec: SweepSpec): number[] {
  if (spec.ratesPerSec) return [...spec.ratesPerSec].sort((a, b) => a - b);
  const { fromPerSec, toPerSec, steps } = spec;
  if (fromPerSec === undefined || toPerSec === undefined || steps === undefined) throw new Error("sweep: give ratesPerSec, or fromPerSec, toPerSec and steps");
  const ratio = (toPerSec / fromPerSec) ** (1 / (steps - 1));
  return Array.from({ length: steps }, (_, i) => Math.round(fromPerSec * ratio ** i * 10) / 10);
}

export interface SweepPoint {
  arm: string;
  ratePerSec: number;
  rounds: number;
  /** Median over rounds of each round's percentile, with a 95% bootstrap CI; null when fewer than two rounds had an answered request. */
  latencyP50Us: BootstrapEstimate | null;
  latencyP99Us: BootstrapEstimate | null;
  achievedRatePerSec: number;
  /** Median shortfall of the achieved rate below the target, percent. */
  rateShortfallPct: number;
  errors: number;
}

/** One point per arm and rate that has ≥ 2 measured rounds. */
export function sweepCurve(trials: readonly TrialResult[], arms: readonly string[], rates: readonly number[], seed: number): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const arm of arms) {
    for (const ratePerSec of rates) {
      const measured = trials.filter((t) => !t.warmup && t.round !== null && t.arm === arm && t.load.targetRatePerSec === ratePerSec);
      if (measured.length < 2) continue;
      // A round in which no request was answered has no percentiles (NaN): it counts in errors, not here.
      const ci = (values: number[]) => {
        const answered = values.filter(Number.isFinite);
        return answered.length < 2 ? null : bootstrapCI(answered, median, { seed: deriveSeed(seed, `sweep/${arm}/${ratePerSec}`) });
      };
      points.push({
        arm,
        ratePerSec,
        rounds: measured.length,
        latencyP50Us: ci(measured.map((t) => t.latencyUs.p50)),
        latencyP99Us: ci(measured.map((t) => t.latencyUs.p99)),
        achievedRatePerSec: median(measured.map((t) => t.load.achievedRatePerSec)),
        rateShortfallPct: median(measured.map((t) => t.load.rateShortfallPct ?? 0)),
        errors: measured.reduce((sum, t) => sum + totalErrors(t.load.errors), 0),
      });
    }
  }
  return points;
}

export interface Knee {
  arm: string;
  /** The highest rate sustained, with every lighter rate; null when the lightest already was not. */
  kneeRatePerSec: number | null;
  /** The first rate not sustained; null when every rate was (the knee lies beyond the sweep). */
  saturatedAtPerSec: number | null;
  reason: string;
}

export interface KneeRule {
  kneeP99Factor: number;
  /** The run's threshold for an open loop that could not keep its rate (spec.thresholds.maxRateShortfallPct). */
  maxRateShortfallPct: number;
}

/**
 * A rate is sustained when the generator kept it (median shortfall ≤ the run's threshold),
 * no request failed, and its p99 is not clearly above kneeP99Factor × the lightest rate's
 * p99 (the CI's low end decides, so noise alone does not place a knee). The knee is the
 * last sustained rate before the first that is not.
 */
export function findKnee(arm: string, points: readonly SweepPoint[], rule: KneeRule): Knee {
  const curve = points.filter((p) => p.arm === arm).sort((a, b) => a.ratePerSec - b.ratePerSec);
  if (curve.length === 0) return { arm, kneeRatePerSec: null, saturatedAtPerSec: null, reason: "no rate has two measured rounds" };
  const lightest = curve[0]!.latencyP99Us;
  const limitUs = lightest === null ? Number.NaN : lightest.estimate * rule.kneeP99Factor;
  let knee: number | null = null;
  for (const point of curve) {
    const why =
      point.rateShortfallPct > rule.maxRateShortfallPct
        ? `achieved ${point.achievedRatePerSec.toFixed(1)} req/s, ${point.rateShortfallPct.toFixed(1)}% short of ${point.ratePerSec} (threshold ${rule.maxRateShortfallPct}%)`
        : point.errors > 0
          ? `${point.errors} request(s) failed at ${point.ratePerSec} req/s`
          : point.latencyP99Us === null || lightest === null
            ? `fewer than two rounds at ${point.ratePerSec} req/s had an answered request`
            : point.latencyP99Us.low > limitUs
              ? `p99 ${formatMs(point.latencyP99Us.estimate)} [${(point.latencyP99Us.low / 1000).toFixed(2)}, ${(point.latencyP99Us.high / 1000).toFixed(2)}] at ${point.ratePerSec} req/s is above ${rule.kneeP99Factor}× the p99 at ${curve[0]!.ratePerSec} req/s (${formatMs(limitUs)})`
              : null;
    if (why !== null) return { arm, kneeRatePerSec: knee, saturatedAtPerSec: point.ratePerSec, reason: why };
    knee = point.ratePerSec;
  }
  return { arm, kneeRatePerSec: knee, saturatedAtPerSec: null, reason: `every rate up to ${knee} req/s sustained: the knee lies beyond the sweep` };
}

function formatMs(us: number): string {
  return `${(us / 1000).toFixed(2)} ms`;
}

/** Curve, knees and the paired analysis at each rate, from a sweep's trials (grouped by their target rate). */
export function analyzeSweep<A>(input: {
  trials: readonly TrialResult[];
  arms: readonly string[];
  ratesPerSec: number[];
  kneeP99Factor: number;
  maxRateShortfallPct: number;
  seed: number;
  analyze: (trials: TrialResult[]) => A;
}): { ratesPerSec: number[]; kneeRule: KneeRule; points: SweepPoint[]; knees: Knee[]; perRate: Array<{ ratePerSec: number; analysis: A | null; note?: string }> } {
  const kneeRule = { kneeP99Factor: input.kneeP99Factor, maxRateShortfallPct: input.maxRateShortfallPct };
  const points = sweepCurve(input.trials, input.arms, input.ratesPerSec, input.seed);
  return {
    ratesPerSec: input.ratesPerSec,
    kneeRule,
    points,
    knees: input.arms.map((arm) => findKnee(arm, points, kneeRule)),
    perRate: input.ratesPerSec.map((ratePerSec) => {
      const trials = input.trials.filter((t) => t.load.targetRatePerSec === ratePerSec);
      // Paired Δ needs percentiles in every round: a saturated rate where some round answered nothing has none.
      const unanswered = trials.filter((t) => !t.warmup && !(Number.isFinite(t.latencyUs.p50) && Number.isFinite(t.latencyUs.p99)));
      if (unanswered.length > 0) return { ratePerSec, analysis: null, note: `${unanswered.length} trial(s) at ${ratePerSec} req/s answered no request: no paired Δ at this rate` };
      return { ratePerSec, analysis: input.analyze(trials) };
    }),
  };
}
