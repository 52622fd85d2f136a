// What each container of each pod cost (median over trials): vCPU per 1000 req/s and
// memory, side by side, with the sidecars' declared budgets drawn as limit ticks.
import type { Analysis, ContainerCost } from "../../results-model.ts";
import { VEGA_LITE_SCHEMA, type Chart } from "../chart.ts";

export interface ResourceRow {
  pod: string;
  container: string;
  /** "pod / container", the bar's label. */
  label: string;
  measure: string;
  value: number;
  /** The declared budget for this container and measure, if any. */
  limit: number | null;
}

/** Budget name → the resource measure it limits. */
const BUDGET_MEASURE: Record<string, string> = { cpuPer1kRps: "vCPU per 1000 req/s", idleMemoryMiB: "idle memory MiB" };

export function resourceRows(analysis: Analysis): ResourceRow[] {
  const rows: ResourceRow[] = [];
  const add = (pod: string, costs: ContainerCost[], limits: Map<string, number>) => {
    for (const c of costs) {
      const measures: Array<[string, number]> = [
        ["vCPU per 1000 req/s", c.vcpuPer1kRpsMedian],
        ["memory avg MiB", c.memoryAvgMiBMedian],
        ["memory peak MiB", c.memoryPeakMiB],
        ["idle memory MiB", c.idleMemoryMiB],
      ];
      for (const [measure, value] of measures) {
        if (!Number.isFinite(value)) continue;
        rows.push({ pod, container: c.container, label: `${pod} / ${c.container}`, measure, value, limit: limits.get(`${c.container}\u0000${measure}`) ?? null });
      }
    }
  };
  add("baseline", analysis.baselineResources, new Map());
  for (const v of analysis.variants) {
    const limits = new Map(v.budgetChecks.flatMap((b) => (BUDGET_MEASURE[b.budget] ? [[`${b.container}\u0000${BUDGET_MEASURE[b.budget]}`, b.limit] as [string, number]] : [])));
    add(v.variant, v.resources, limits);
  }
  return rows;
}

export const RESOURCES_CHART_ID = "chart-resources";

export function resourcesChart(analysis: Analysis, accounting: string): Chart | null {
  const rows = resourceRows(analysis);
  if (rows.length === 0) return null;
  const labels = new Set(rows.map((r) => r.label)).size;
  const y = { field: "label", type: "nominal", title: null, sort: null };
  return {
    id: RESOURCES_CHART_ID,
    title: "Resources per container",
    caption: `Median over the measured trials (${accounting} accounting); open loop: vCPU is at the arm's own rate. Red ticks: a budget the sidecar's manifest declares for that container (cpuPer1kRps, idleMemoryMiB).`,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { name: "resources" },
      datasets: { resources: rows },
      facet: { column: { field: "measure", type: "nominal", title: null, sort: ["vCPU per 1000 req/s", "memory avg MiB", "memory peak MiB", "idle memory MiB"], header: { labelFontWeight: "bold" } } },
      resolve: { scale: { x: "independent" } },
      spec: {
        width: 170,
        height: Math.max(60, 22 * labels),
        layer: [
          {
            mark: { type: "bar", color: "#0969da", opacity: 0.85 },
            encoding: {
              x: { field: "value", type: "quantitative", title: null },
              y,
              tooltip: [{ field: "label", title: "pod / container" }, { field: "measure" }, { field: "value", format: ".3f" }, { field: "limit", title: "budget", format: ".3f" }],
            },
          },
          {
            transform: [{ filter: "datum.limit !== null" }],
            mark: { type: "tick", color: "#cf222e", thickness: 3, size: 18 },
            encoding: { x: { field: "limit", type: "quantitative" }, y, tooltip: [{ field: "limit", title: "budget", format: ".3f" }] },
          },
        ],
      },
    },
  };
}
