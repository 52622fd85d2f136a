// --tolerance: how much of a change in a sidecar's overhead a team accepts before the CI
// gate fails, besides what the noise floors already absorb. Relative to the base run's
// overhead ("10%") or absolute latency ("250us", "0.5ms").
import type { OverheadMetric } from "./overhead-series.ts";
import { isLatencyMetric } from "./overhead-series.ts";

export type Tolerance = { kind: "relative"; percent: number } | { kind: "absolute"; us: number };

/** 10% of the base overhead: small enough to catch a real slowdown, which the floors and CIs keep from firing on noise. */
export const DEFAULT_TOLERANCE = "10%";
const DEFAULT_PERCENT = 10;

/** Null for an unreadable value: the caller names the flag. */
export function parseTolerance(text: string): Tolerance | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%|us|µs|ms)\s*$/.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  switch (match[2]) {
    case "%":
      return { kind: "relative", percent: value };
    case "ms":
      return { kind: "absolute", us: value * 1000 };
    default:
      return { kind: "absolute", us: value };
  }
}

export function describeTolerance(tolerance: Tolerance): string {
  return tolerance.kind === "relative" ? `${tolerance.percent}% of the base overhead` : `${tolerance.us} µs on latency (${DEFAULT_PERCENT}% of the base figure on CPU and memory)`;
}

/**
 * The tolerance for one metric, in its unit. An absolute tolerance is a latency: CPU and
 * memory keep the default share of their base figure. A relative one is taken of the
 * base overhead's size, so a sidecar measured slightly faster than the bare primary
 * (a negative Δ within noise) does not get a negative tolerance.
 */
export function toleranceFor(metric: OverheadMetric, baseOverhead: number, tolerance: Tolerance): number {
  if (tolerance.kind === "absolute" && isLatencyMetric(metric)) return tolerance.us;
  const percent = tolerance.kind === "relative" ? tolerance.percent : DEFAULT_PERCENT;
  return (percent / 100) * Math.abs(baseOverhead);
}
