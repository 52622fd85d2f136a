// Latency by percentile per arm, the way HdrHistogram plots show a distribution: x is the
// percentile on a 1/(1 − q) log axis (so 90 %, 99 %, 99.9 % are evenly spaced and the tail
// gets the room), y the latency. Recomputed from the encoded histograms in results.json:
// each arm's measured trials merged into one histogram.
import { createLatencyHistogram, decodeHistogram } from "../../../measure/histogram.ts";
import type { Results } from "../../results-model.ts";
import { VEGA_LITE_SCHEMA, usToMs, type Chart } from "../chart.ts";

/** Points per decade of 1/(1 − q): 0 %, 36.9 %, 60.2 %, 74.9 %, 84.2 %, 90 %, … */
const POINTS_PER_DECADE = 5;
/** Deepest tail drawn: 99.999 % (1/(1 − q) = 10^5). */
const MAX_DECADES = 5;

/**
 * The percentiles drawn for a histogram of `count` values: evenly spaced on the log axis,
 * as deep into the tail as the data reach (at least one value at or beyond each).
 */
export function curvePercentiles(count: number): number[] {
  const percentiles: number[] = [];
  for (let k = 0; k <= MAX_DECADES * POINTS_PER_DECADE; k += 1) {
    const oneOverTail = 10 ** (k / POINTS_PER_DECADE);
    if (oneOverTail > count) break;
    percentiles.push(100 * (1 - 1 / oneOverTail));
  }
  return percentiles;
}

export interface PercentilePoint {
  arm: string;
  /** The open-loop rate of a sweep's step; null for a run at one rate. */
  ratePerSec: number | null;
  percentile: number;
  /** 1/(1 − q): the x position. */
  oneOverTail: number;
  latencyMs: number;
  /** Values in the merged histogram. */
  count: number;
}

/** Each arm's (and sweep rate's) merged histogram of latency from the scheduled send, as points. */
export function percentilePoints(results: Results): PercentilePoint[] {
  const groups = new Map<string, { arm: string; ratePerSec: number | null; encoded: string[] }>();
  const sweep = results.sweep !== undefined;
  for (const trial of results.trials) {
    if (trial.warmup || !trial.histograms?.latency) continue;
    const ratePerSec = sweep ? trial.load.targetRatePerSec : null;
    const key = `${trial.arm}\u0000${ratePerSec}`;
    const group = groups.get(key) ?? { arm: trial.arm, ratePerSec, encoded: [] };
    group.encoded.push(trial.histograms.latency);
    groups.set(key, group);
  }
  const points: PercentilePoint[] = [];
  for (const { arm, ratePerSec, encoded } of groups.values()) {
    const merged = createLatencyHistogram();
    for (const one of encoded) merged.add(decodeHistogram(one));
    const count = merged.totalCount;
    for (const percentile of curvePercentiles(count)) {
      points.push({ arm, ratePerSec, percentile, oneOverTail: 1 / (1 - percentile / 100), latencyMs: usToMs(merged.getValueAtPercentile(percentile)), count });
    }
  }
  return points;
}

export const PERCENTILE_CHART_ID = "chart-percentiles";

export function percentileChart(results: Results): Chart | null {
  const points = percentilePoints(results);
  if (points.length === 0) return null;
  const rates = new Set(points.map((p) => p.ratePerSec));
  const layer = {
    layer: [
      { mark: { type: "line", interpolate: "monotone" }, encoding: { color: { field: "arm", type: "nominal", title: "arm" } } },
      {
        mark: { type: "point", filled: true, size: 28 },
        encoding: {
          color: { field: "arm", type: "nominal" },
          tooltip: [
            { field: "arm", type: "nominal" },
            ...(rates.size > 1 ? [{ field: "ratePerSec", type: "quantitative", title: "rate req/s" }] : []),
            { field: "percentile", type: "quantitative", format: ".3f", title: "percentile %" },
            { field: "latencyMs", type: "quantitative", format: ".3f", title: "latency ms" },
            { field: "count", type: "quantitative", title: "requests" },
          ],
        },
      },
    ],
    encoding: {
      x: {
        field: "oneOverTail",
        type: "quantitative",
        scale: { type: "log" },
        title: "percentile",
        axis: { values: [1, 2, 10, 100, 1000, 10_000, 100_000], labelExpr: "format(100 * (1 - 1 / datum.value), '.4~f') + '%'" },
      },
      // Open loop: from the scheduled send (queueing included); closed loop: from the socket write.
      // Log too: one stalled request (hundreds of ms) on a linear axis flattens every other curve to the floor.
      y: { field: "latencyMs", type: "quantitative", scale: { type: "log" }, title: results.trials.some((t) => t.load.mode === "open") ? "latency from the scheduled send (ms, log scale)" : "latency (ms, log scale)" },
    },
    width: rates.size > 1 ? 260 : 760,
    height: 320,
  };
  const spec =
    rates.size > 1
      ? { $schema: VEGA_LITE_SCHEMA, data: { name: "points" }, datasets: { points }, facet: { column: { field: "ratePerSec", type: "ordinal", title: "rate (req/s)" } }, spec: layer }
      : { $schema: VEGA_LITE_SCHEMA, data: { name: "points" }, datasets: { points }, ...layer };
  return {
    id: PERCENTILE_CHART_ID,
    title: "Latency by percentile, per arm",
    caption:
      "Every measured trial of an arm merged into one HDR histogram; x is the percentile on a log scale of 1/(1 − q), so the tail (99 %, 99.9 %) gets as much room as the body; latency is on a log scale too, so one stall does not flatten the other curves. Curves stop where the data stop: a percentile is drawn only if at least one request lies at or beyond it.",
    spec,
  };
}
