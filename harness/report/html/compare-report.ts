// report.html of `compare`: the measured table first — per row and integration the claim,
// what was measured, the verdict, and the cell's evidence folded — then the overhead
// benchmark's charts, the equivalence check and the fault episodes.
import { COLUMNS, COLUMN_LABELS, ROWS, ROW_LABELS } from "../../compare/claims.ts";
import type { CellVerdict, ComparisonResults } from "../../compare/comparison-model.ts";
import { environmentRows } from "../markdown-writer.ts";
import type { Chart } from "./chart.ts";
import { deltaChart, deltaRows } from "./charts/delta-ci.ts";
import { episodeTimelineChart } from "./charts/episode-timelines.ts";
import { percentileChart } from "./charts/percentile-curves.ts";
import { escapeHtml } from "./escape.ts";
import { badge, foldedJson, html, list, num, section, table, type Cell, type Tone } from "./fragments.ts";
import { chartBlock, htmlPage } from "./page.ts";

const CELL_TONE: Record<CellVerdict, Tone> = { holds: "good", refuted: "bad", "not-distinguishable": "neutral" };
const STATUS_TONE: Record<string, Tone> = { complete: "good", running: "info", interrupted: "warn", failed: "bad" };

function measuredTable(results: ComparisonResults): string {
  const rows: Cell[][] = ROWS.map((row) => [
    html(`<b>${escapeHtml(ROW_LABELS[row])}</b>`),
    ...COLUMNS.map((column): Cell => {
      const cell = results.table.find((c) => c.row === row && c.column === column);
      if (!cell) return "–";
      return html(
        `<div class="muted">claim: ${escapeHtml(cell.claim)}</div><div>measured: ${escapeHtml(cell.measured)}</div><div>${badge(cell.verdict, CELL_TONE[cell.verdict] ?? "neutral").html} <span class="muted">${escapeHtml(cell.basis)}</span></div>${foldedJson("evidence", cell.evidence).html}`,
      );
    }),
  ]);
  const tally = (verdict: CellVerdict) => results.table.filter((c) => c.verdict === verdict).length;
  return `<p>${badge(`${tally("holds")} hold`, "good").html} ${badge(`${tally("refuted")} refuted`, "bad").html} ${badge(`${tally("not-distinguishable")} not distinguishable`, "neutral").html}</p>${table(["row", ...COLUMNS.map((c) => `${COLUMN_LABELS[c]} (${results.variants[c]})`)], rows)}`;
}

function equivalence(results: ComparisonResults): string | null {
  if (results.equivalence.length === 0) return null;
  return table(
    ["integration", "variant", "same work", "function", "checks"],
    results.equivalence.map((e) => [
      COLUMN_LABELS[e.column],
      e.variant,
      badge(e.passed ? "yes" : "no", e.passed ? "good" : "bad"),
      `${e.facts.language ?? "?"} (${e.facts.runtime ?? "?"}), pid ${e.facts.functionPid ?? "?"}; primary pid ${e.facts.primaryPid ?? "?"}`,
      html(`${escapeHtml(e.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`).join("; ") || "all passed")}${foldedJson(`${e.checks.length} checks`, e.checks).html}`),
    ]),
  );
}

function episodes(results: ComparisonResults, charts: Chart[]): string | null {
  if (results.episodes.length === 0) return null;
  const chart = episodeTimelineChart(results.episodes);
  if (chart) charts.push(chart);
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} %`);
  const ms = (us: number | null | undefined) => (us === null || us === undefined ? "–" : (us / 1000).toFixed(2));
  const summary = table(
    ["integration", "episode", "took effect", "primary pid", "OOM", "primary availability", "primary p99 before → during (ms)", "clients failed", "recovered (ms)", "evidence"],
    results.episodes.map((e): Cell[] => {
      const entry = e.streams.find((s) => s.target === "entry");
      const direct = e.streams.find((s) => s.target === "primary");
      return [
        COLUMN_LABELS[e.column],
        e.kind,
        e.error ? `error: ${e.error}` : e.faultTookEffect ? "yes" : "no",
        num(`${e.primary.pidBefore ?? "?"} → ${e.primary.pidAfter ?? "?"}`),
        e.primary.oomKilled ? "yes" : "no",
        num(pct(direct?.during.availabilityPct)),
        num(`${ms(direct?.before.p99Us)} → ${ms(direct?.during.p99Us)}`),
        num(entry ? `${entry.during.failed}/${entry.during.sent}` : "–"),
        num(entry === undefined ? "–" : entry.timeToRecoverMs === null ? "not within window" : String(Math.round(entry.timeToRecoverMs))),
        foldedJson("episode", { trigger: e.trigger, limits: e.limits, primary: e.primary, containers: e.containers, streams: e.streams.map(({ timeline: _timeline, ...s }) => s) }),
      ];
    }),
  );
  return (chart ? chartBlock(chart) : "") + summary;
}

function overhead(results: ComparisonResults, charts: Chart[]): string | null {
  const run = results.overhead;
  if (!run) return null;
  const built = [run.analysis ? deltaChart(deltaRows(run.analysis), { id: "chart-overhead-deltas" }) : null, percentileChart(run)].flatMap((c) => (c ? [{ ...c, id: c.id.startsWith("chart-overhead") ? c.id : `chart-overhead-${c.id.replace(/^chart-/, "")}` }] : []));
  charts.push(...built);
  return [
    `<p class="caption">The paired, interleaved open-loop benchmark of the four arms (${escapeHtml(run.plan.arms.join(", "))}), ${escapeHtml(run.plan.rounds)} rounds, run ${escapeHtml(run.status)}. Its full report: <a href="overhead/report.html">overhead/report.html</a>. Rule: ${escapeHtml(results.rules.overhead)}.</p>`,
    ...built.map(chartBlock),
  ].join("\n");
}

export function compareReportHtml(results: ComparisonResults): string {
  const charts: Chart[] = [];
  const header = `<header class="report">
<h1>${escapeHtml(results.scenario.name)} — sidecar vs monolithic vs library/SDK, measured ${badge(results.status, STATUS_TONE[results.status] ?? "neutral").html}</h1>
<p class="meta">run <code>${escapeHtml(results.runId)}</code>, ${escapeHtml(results.startedAt)} → ${escapeHtml(results.finishedAt ?? "…")}; scenario <code>${escapeHtml(results.scenario.file)}</code> (sha256 ${escapeHtml(results.scenario.sha256.slice(0, 12))}…), seed ${escapeHtml(results.seed)}</p>
<p class="meta">variants: ${COLUMNS.map((c) => `${escapeHtml(COLUMN_LABELS[c])} = ${escapeHtml(results.variants[c])}`).join(", ")}; baseline = the bare primary</p>
</header>${results.error ? `<p class="banner bad">The run stopped with an error: ${escapeHtml(results.error)}</p>` : ""}`;
  const sections = [
    section("The table, measured", () => measuredTable(results)),
    section("Overhead per request", () => overhead(results, charts)),
    section("Equivalence: the same work in every integration", () => equivalence(results)),
    section("Fault episodes", () => episodes(results, charts)),
    section("Environment", () => table(["", ""], environmentRows(results.environment).map(([k, v]) => [html(`<b>${escapeHtml(k)}</b>`), v]))),
    section("Warnings", () => (results.warnings.length > 0 ? list(results.warnings) : null)),
  ];
  return htmlPage({
    title: `sidecar-bench compare: ${results.scenario.name} (${results.runId})`,
    body: [header, ...sections].join("\n"),
    charts,
    footer: `${escapeHtml(results.environment.harnessVersion)} · rendered from results.json (kind ${escapeHtml(results.kind)}, schema ${escapeHtml(results.schemaVersion)}).`,
  });
}
