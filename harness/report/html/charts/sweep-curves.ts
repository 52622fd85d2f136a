// A rate sweep: each arm's p50 and p99 against the offered rate, with bootstrap 95% CIs
// over the rate's rounds, so the knee (where latency turns up) is visible.
import type { SweepAnalysis } from "../../results-model.ts";
import { VEGA_LITE_SCHEMA, usToMs, type Chart } from "../chart.ts";

export interface SweepRow {
  arm: string;
  ratePerSec: number;
  achievedRatePerSec: number;
  metric: "p50" | "p99";
  latencyMs: number;
  lowMs: number;
  highMs: number;
}

export function sweepRows(sweep: SweepAnalysis): SweepRow[] {
  return sweep.points.flatMap((p) =>
    (
      [
        ["p50", p.latencyP50Us],
        ["p99", p.latencyP99Us],
      ] as const
    ).flatMap(([metric, e]) =>
      e === null ? [] : [{ arm: p.arm, ratePerSec: p.ratePerSec, achievedRatePerSec: p.achievedRatePerSec, metric, latencyMs: usToMs(e.estimate), lowMs: usToMs(e.low), highMs: usToMs(e.high) }],
    ),
  );
}

export const SWEEP_CHART_ID = "chart-sweep";

export function sweepChart(sweep: SweepAnalysis): Chart | null {
  const rows = sweepRows(sweep);
  if (rows.length === 0) return null;
  const x = { field: "ratePerSec", type: "quantitative", title: "offered rate (req/s)", scale: { zero: false, padding: 20 } };
  return {
    id: SWEEP_CHART_ID,
    title: "Latency against rate (rate sweep)",
    caption: "Median over each rate's rounds of the round's percentile, with its bootstrap 95% CI (bars), per arm. The knee table below says which rate each arm still sustained.",
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { name: "sweep" },
      datasets: { sweep: rows },
      facet: { column: { field: "metric", type: "nominal", title: null, sort: ["p50", "p99"], header: { labelFontWeight: "bold" } } },
      resolve: { scale: { y: "independent" } },
      spec: {
        width: 360,
        height: 240,
        layer: [
          { mark: { type: "rule" }, encoding: { x, y: { field: "lowMs", type: "quantitative" }, y2: { field: "highMs" }, color: { field: "arm", type: "nominal" } } },
          {
            mark: { type: "line", point: { filled: true } },
            encoding: {
              x,
              y: { field: "latencyMs", type: "quantitative", title: "latency (ms)" },
              color: { field: "arm", type: "nominal", title: "arm" },
              tooltip: [{ field: "arm" }, { field: "ratePerSec", title: "rate" }, { field: "achievedRatePerSec", title: "achieved", format: ".1f" }, { field: "latencyMs", format: ".3f" }, { field: "lowMs", format: ".3f" }, { field: "highMs", format: ".3f" }],
            },
          },
        ],
      },
    },
  };
}
