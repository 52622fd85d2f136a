// One chart of a report: a Vega-Lite spec whose data are named datasets embedded in it,
// so the page (and the browser test, through the Vega view) can read what was drawn.

export interface Chart {
  /** Element id, also the key of the chart's Vega view in window.sidecarBench.views. */
  id: string;
  title: string;
  /** One or two sentences: what is drawn and how to read it. */
  caption: string;
  /** A Vega-Lite spec (top-level `datasets` carry the data). */
  spec: Record<string, unknown>;
}

/** Shared look: sized to the report's column, readable in a screenshot. */
export const CHART_CONFIG = {
  font: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e8eb" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: "#d0d4d9" },
} as const;

export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** µs → ms for chart axes, rounded to 0.001 ms (the histograms' resolution is 1 µs). */
export function usToMs(us: number): number {
  return Math.round(us) / 1000;
}
