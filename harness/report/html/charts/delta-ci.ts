// Each variant's added latency (median of the paired Δ) with its 95% CI, drawn over the
// A/A noise-floor band (±h, the baseline measured against itself): a CI inside the band
// is not distinguishable from noise, one clear of it is an effect.
import type { MetricAnalysis } from "../../../measure/paired-analysis.ts";
import type { Analysis, TokenStreamAnalysis } from "../../results-model.ts";
import { VEGA_LITE_SCHEMA, usToMs, type Chart } from "../chart.ts";
import { METRIC_LABEL } from "../format.ts";

export interface DeltaRow {
  /** What is compared with the baseline: a variant, or a sidecar in a certificate. */
  variant: string;
  metric: string;
  deltaMs: number;
  lowMs: number;
  highMs: number;
  /** Half-width of the A/A floor; 0 when the run had no A/A arm. */
  floorMs: number;
  verdict: string;
}

const LATENCY_KEYS = ["p50", "p90", "p99", "p99_9"] as const;

/** The latency metrics (µs) of each variant of an analysis, as chart rows. */
export function deltaRows(analysis: Analysis, measure: "latency" | "serviceTime" = "latency"): DeltaRow[] {
  return analysis.variants.flatMap((v) =>
    LATENCY_KEYS.flatMap((key) => {
      const m: MetricAnalysis | undefined = v[measure][key];
      if (!m || m.unit !== "us") return [];
      return [{ variant: v.variant, metric: METRIC_LABEL[key] ?? key, deltaMs: usToMs(m.deltaMedian), lowMs: usToMs(m.ci95.low), highMs: usToMs(m.ci95.high), floorMs: usToMs(m.noiseFloorHalfWidth), verdict: m.verdict }];
    }),
  );
}

/** Token streams: what each variant adds to the first token (TTFT) and between tokens (ITL). */
export function tokenDeltaRows(stream: TokenStreamAnalysis): DeltaRow[] {
  return stream.variants.flatMap((v) =>
    (["ttft", "itl"] as const).flatMap((measure) =>
      LATENCY_KEYS.flatMap((key) => {
        const m = v[measure][key];
        if (!m || m.unit !== "us") return [];
        return [{ variant: v.variant, metric: `${measure.toUpperCase()} ${METRIC_LABEL[key] ?? key}`, deltaMs: usToMs(m.deltaMedian), lowMs: usToMs(m.ci95.low), highMs: usToMs(m.ci95.high), floorMs: usToMs(m.noiseFloorHalfWidth), verdict: m.verdict }];
      }),
    ),
  );
}

export const DELTA_CHART_ID = "chart-deltas";

export function deltaChart(rows: DeltaRow[], options: { id?: string; title?: string; subject?: string } = {}): Chart | null {
  if (rows.length === 0) return null;
  const metrics = [...new Set(rows.map((r) => r.metric))];
  // Up to 4 panels a line; token streams have 8 (TTFT and ITL × 4 percentiles).
  const columns = Math.min(metrics.length, 4);
  const variants = new Set(rows.map((r) => r.variant)).size;
  const y = { field: "variant", type: "nominal", title: null };
  const spec = {
    $schema: VEGA_LITE_SCHEMA,
    data: { name: "deltas" },
    datasets: { deltas: rows },
    facet: { field: "metric", type: "nominal", title: null, sort: metrics, header: { labelFontWeight: "bold" } },
    columns,
    resolve: { scale: { x: "independent" } },
    spec: {
      width: Math.max(150, Math.floor(900 / columns) - 40),
      height: Math.max(50, 34 * variants),
      layer: [
        {
          mark: { type: "rect", color: "#8c959f", opacity: 0.25 },
          transform: [{ calculate: "-datum.floorMs", as: "floorLowMs" }],
          encoding: { x: { field: "floorLowMs", type: "quantitative" }, x2: { field: "floorMs" }, y, tooltip: [{ field: "floorMs", title: "A/A floor ± ms", format: ".3f" }] },
        },
        { mark: { type: "rule", color: "#59636e", strokeDash: [3, 3] }, encoding: { x: { datum: 0, type: "quantitative" } } },
        {
          mark: { type: "rule", strokeWidth: 2 },
          encoding: { x: { field: "lowMs", type: "quantitative", title: "Δ ms (95% CI)" }, x2: { field: "highMs" }, y, color: { field: "verdict", type: "nominal", legend: null } },
        },
        {
          mark: { type: "point", filled: true, size: 70 },
          encoding: {
            x: { field: "deltaMs", type: "quantitative" },
            y,
            color: {
              field: "verdict",
              type: "nominal",
              title: "verdict",
              scale: { domain: ["slower", "not-distinguishable", "faster"], range: ["#cf222e", "#6e7781", "#1a7f37"] },
            },
            tooltip: [
              { field: "variant", type: "nominal" },
              { field: "metric", type: "nominal" },
              { field: "deltaMs", title: "Δ median ms", format: "+.3f" },
              { field: "lowMs", title: "CI low ms", format: "+.3f" },
              { field: "highMs", title: "CI high ms", format: "+.3f" },
              { field: "floorMs", title: "A/A floor ± ms", format: ".3f" },
              { field: "verdict", type: "nominal" },
            ],
          },
        },
      ],
    },
  };
  return {
    id: options.id ?? DELTA_CHART_ID,
    title: options.title ?? "Added latency per request, against the noise floor",
    caption: `Dot: median over the paired rounds of ${options.subject ?? "the variant"} − baseline; bar: its bootstrap 95% CI; grey band: the A/A noise floor (±h, the baseline against itself). Colour is the verdict: only a CI clear of the band counts as slower or faster.`,
    spec,
  };
}
