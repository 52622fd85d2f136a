// Each measured trial's p50 and p99 over the run's wall-clock time, per arm: drift (a
// machine warming up, a neighbour starting) and outlying rounds are visible at a glance.
import type { Results } from "../../results-model.ts";
import { VEGA_LITE_SCHEMA, usToMs, type Chart } from "../chart.ts";

export interface RoundPoint {
  arm: string;
  round: number;
  startedAt: string;
  /** Seconds from the run's start to the trial's. */
  elapsedSec: number;
  metric: "p50" | "p99";
  latencyMs: number;
  ratePerSec: number | null;
}

export function roundPoints(results: Results): RoundPoint[] {
  const runStartMs = Date.parse(results.startedAt);
  return results.trials
    .filter((t) => !t.warmup && t.round !== null)
    .flatMap((t) =>
      (["p50", "p99"] as const)
        .filter((metric) => Number.isFinite(t.latencyUs?.[metric]))
        .map((metric) => ({ arm: t.arm, round: t.round!, startedAt: t.startedAt, elapsedSec: Math.round(Date.parse(t.startedAt) - runStartMs) / 1000, metric, latencyMs: usToMs(t.latencyUs[metric]), ratePerSec: t.load.targetRatePerSec })),
    );
}

export const ROUNDS_CHART_ID = "chart-rounds";

export function roundsChart(results: Results): Chart | null {
  const points = roundPoints(results);
  if (points.length === 0) return null;
  return {
    id: ROUNDS_CHART_ID,
    title: "Per-round latency over time",
    caption: "Each measured trial's p50 and p99 (from the scheduled send) at the time it started, one line per arm. The paired analysis differences within a round, so drift shared by all arms cancels; a round far from the others shows here, and the medians keep it from swaying the result.",
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { name: "rounds" },
      datasets: { rounds: points },
      facet: { row: { field: "metric", type: "nominal", title: null, sort: ["p50", "p99"], header: { labelFontWeight: "bold" } } },
      resolve: { scale: { y: "independent" } },
      spec: {
        width: 760,
        height: 150,
        mark: { type: "line", point: { filled: true, size: 30 } },
        encoding: {
          x: { field: "elapsedSec", type: "quantitative", title: "trial start (s since the run started)", axis: { tickCount: 10 } },
          y: { field: "latencyMs", type: "quantitative", title: "ms" },
          color: { field: "arm", type: "nominal", title: "arm" },
          tooltip: [
            { field: "arm", type: "nominal" },
            { field: "round", type: "ordinal" },
            { field: "metric", type: "nominal" },
            { field: "latencyMs", type: "quantitative", format: ".3f", title: "latency ms" },
            { field: "ratePerSec", type: "quantitative", title: "rate req/s" },
            { field: "startedAt", type: "nominal", title: "started at" },
          ],
        },
      },
    },
  };
}
