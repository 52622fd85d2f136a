// compare's fault episodes over time: per integration and episode, the share of requests
// that failed in each bin, for the clients (through the entry) and straight to the
// primary, with the moment the fault was set off — isolation, or its absence, at a glance.
import { COLUMN_LABELS } from "../../../compare/claims.ts";
import type { EpisodeResult } from "../../../compare/comparison-model.ts";
import { VEGA_LITE_SCHEMA, type Chart } from "../chart.ts";

export interface TimelineRow {
  integration: string;
  episode: string;
  target: "clients (entry)" | "primary (direct)";
  /** Bin start, seconds from the first scheduled request. */
  atSec: number;
  sent: number;
  failedPct: number;
  /** Seconds from the first scheduled request to the fault's trigger. */
  triggerSec: number;
}

export function timelineRows(episodes: EpisodeResult[]): TimelineRow[] {
  return episodes.flatMap((e) =>
    e.streams.flatMap((s) =>
      s.timeline.flatMap((bin, index) => {
        const sent = bin.ok + bin.failed;
        if (sent === 0) return [];
        return [
          {
            integration: COLUMN_LABELS[e.column] ?? e.column,
            episode: e.kind,
            target: s.target === "entry" ? ("clients (entry)" as const) : ("primary (direct)" as const),
            atSec: (index * e.timelineBinMs) / 1000,
            sent,
            failedPct: Math.round((1000 * bin.failed) / sent) / 10,
            triggerSec: Math.round(e.trigger.atMs) / 1000,
          },
        ];
      }),
    ),
  );
}

export const TIMELINE_CHART_ID = "chart-episodes";

export function episodeTimelineChart(episodes: EpisodeResult[]): Chart | null {
  const rows = timelineRows(episodes);
  if (rows.length === 0) return null;
  return {
    id: TIMELINE_CHART_ID,
    title: "Failed requests over each fault episode",
    caption: "Share of the requests scheduled in each bin that failed, for clients of the variant (through its entry) and for requests straight to the primary; the dashed line is the moment the fault was set off. Isolation holds when the primary's line stays at 0 % while the function misbehaves.",
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      data: { name: "timeline" },
      datasets: { timeline: rows },
      facet: {
        row: { field: "integration", type: "nominal", title: null, sort: ["sidecar", "monolithic", "library/SDK"], header: { labelFontWeight: "bold" } },
        column: { field: "episode", type: "nominal", title: null, header: { labelFontWeight: "bold" } },
      },
      spec: {
        width: 190,
        height: 90,
        layer: [
          {
            mark: { type: "line", interpolate: "step-after", point: { filled: true, size: 12 } },
            encoding: {
              x: { field: "atSec", type: "quantitative", title: "s" },
              y: { field: "failedPct", type: "quantitative", title: "failed %", scale: { domain: [0, 100] } },
              color: { field: "target", type: "nominal", title: "requests", scale: { domain: ["clients (entry)", "primary (direct)"], range: ["#cf222e", "#0969da"] } },
              tooltip: [{ field: "target" }, { field: "atSec", title: "bin start s" }, { field: "sent" }, { field: "failedPct", title: "failed %" }],
            },
          },
          {
            transform: [{ aggregate: [{ op: "max", field: "triggerSec", as: "triggerSec" }] }],
            mark: { type: "rule", strokeDash: [4, 3], color: "#59636e" },
            encoding: { x: { field: "triggerSec", type: "quantitative" } },
          },
        ],
      },
    },
  };
}
