// The sidecars' declared budgets against what was measured: one panel per budget, the
// measured figure (with its CI for latency) and the limit as a red line.
import type { Analysis } from "../../results-model.ts";
import { VEGA_LITE_SCHEMA, type Chart } from "../chart.ts";

export interface BudgetRow {
  variant: string;
  container: string;
  label: string;
  budget: string;
  unit: string;
  limit: number;
  measured: number;
  low: number | null;
  high: number | null;
  result: string;
}

export function budgetRows(analysis: Analysis): BudgetRow[] {
  return analysis.variants.flatMap((v) =>
    v.budgetChecks
      .filter((b) => Number.isFinite(b.measured))
      .map((b) => ({
        variant: v.variant,
        container: b.container,
        label: `${v.variant} / ${b.container}`,
        budget: `${b.budget} · ${b.unit}`,
        unit: b.unit,
        limit: b.limit,
        measured: b.measured,
        low: b.ci95?.low ?? null,
        high: b.ci95?.high ?? null,
        result: b.result,
      })),
  );
}

export const BUDGETS_CHART_ID = "chart-budgets";

export function budgetsChart(rows: BudgetRow[], options: { id?: string; title?: string; caption?: string } = {}): Chart | null {
  if (rows.length === 0) return null;
  const y = { field: "label", type: "nominal", title: null };
  const labels = new Set(rows.map((r) => r.label)).size;
  return {
    id: options.id ?? BUDGETS_CHART_ID,
    title: options.title ?? "Budgets declared by the sidecars",
    caption:
      options.caption ??
      "Measured figure per budget (latency: median added latency with its 95% CI) against the declared limit (red line). A latency budget is within only when the whole CI is below the limit.",
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { name: "budgets" },
      datasets: { budgets: rows },
      // Two-line panel titles: the budget, then its unit.
      facet: { column: { field: "budget", type: "nominal", title: null, header: { labelFontWeight: "bold", labelExpr: "split(datum.value, ' · ')" } } },
      resolve: { scale: { x: "independent" } },
      spec: {
        width: 170,
        height: Math.max(40, 26 * labels),
        layer: [
          {
            transform: [{ filter: "datum.low !== null" }],
            mark: { type: "rule", strokeWidth: 2, color: "#59636e" },
            encoding: { x: { field: "low", type: "quantitative" }, x2: { field: "high" }, y },
          },
          {
            mark: { type: "point", filled: true, size: 80 },
            encoding: {
              x: { field: "measured", type: "quantitative", title: null, scale: { zero: true } },
              y,
              color: { field: "result", type: "nominal", title: "result", scale: { domain: ["within", "inconclusive", "exceeded"], range: ["#1a7f37", "#9a6700", "#cf222e"] } },
              tooltip: [{ field: "label", title: "variant / container" }, { field: "budget" }, { field: "measured", format: ".3f" }, { field: "low", format: ".3f", title: "CI low" }, { field: "high", format: ".3f", title: "CI high" }, { field: "limit" }, { field: "result" }],
            },
          },
          { mark: { type: "rule", color: "#cf222e", strokeWidth: 2 }, encoding: { x: { field: "limit", type: "quantitative" } } },
        ],
      },
    },
  };
}
