// report.html of a run: verdict summary first, then the charts (Δ against the A/A floor,
// percentile curves, rounds over time, resources and budgets), then the tables behind
// them and the environment. Each section is left out when its data are absent (an
// interrupted run, no analysis), so any results.json renders.
import { median } from "../../measure/statistics.ts";
import { describeWorkload, environmentRows, formatBudgetMeasure } from "../markdown-writer.ts";
import type { Analysis, Results, TokenStreamAnalysis, TrialResult } from "../results-model.ts";
import type { Chart } from "./chart.ts";
import { budgetRows, budgetsChart } from "./charts/budgets.ts";
import { deltaChart, deltaRows, tokenDeltaRows } from "./charts/delta-ci.ts";
import { percentileChart } from "./charts/percentile-curves.ts";
import { resourcesChart } from "./charts/resources.ts";
import { roundsChart } from "./charts/rounds-over-time.ts";
import { sweepChart } from "./charts/sweep-curves.ts";
import { escapeHtml } from "./escape.ts";
import { METRIC_LABEL, VERDICT_TONE, ciText, deltaText, fixed, floorText, formatUs } from "./format.ts";
import { badge, html, list, num, section, table, type Cell, type Tone } from "./fragments.ts";
import { htmlPage, chartBlock } from "./page.ts";

const STATUS_TONE: Record<Results["status"], Tone> = { complete: "good", running: "info", interrupted: "warn", failed: "bad" };

function header(results: Results): string {
  const plan = results.plan;
  let workload: string;
  try {
    workload = describeWorkload(results);
  } catch {
    workload = "(not described in this results.json)";
  }
  const primary = results.primary ? `${results.primary.name}${results.primary.version ? ` ${results.primary.version}` : ""}` : "–";
  return `<header class="report">
<h1>${escapeHtml(results.scenario.name)} — sidecar overhead ${badge(results.status, STATUS_TONE[results.status] ?? "neutral").html}</h1>
<p class="meta">run <code>${escapeHtml(results.runId)}</code>, ${escapeHtml(results.startedAt)} → ${escapeHtml(results.finishedAt ?? "…")}; scenario <code>${escapeHtml(results.scenario.file)}</code> (sha256 ${escapeHtml(results.scenario.sha256.slice(0, 12))}…), seed ${escapeHtml(plan.seed)}</p>
<p class="meta">primary: ${escapeHtml(primary)}; workload: ${escapeHtml(workload)}</p>
<p class="meta">design: ${escapeHtml(plan.rounds)} paired rounds × arms [${escapeHtml(plan.arms.join(", "))}], ${escapeHtml(plan.interleaving === "slots" ? `interleaved in ${plan.slotMs} ms slots` : "one trial per arm per round")}, ${escapeHtml((plan.trialDurationMs / 1000).toFixed(1))} s per arm and round; A/A arm: ${escapeHtml(plan.aaArm ?? "none")}</p>
</header>`;
}

function statusBanner(results: Results): string {
  if (results.status === "complete") return "";
  const measured = results.trials.filter((t) => !t.warmup).length;
  const what = results.status === "running" ? "This run has not finished (or was killed without cleaning up)" : `This run is ${results.status}`;
  return `<p class="banner${results.status === "failed" ? " bad" : ""}">${escapeHtml(what)}: ${measured} measured trial(s) kept.${results.error ? ` Error: ${escapeHtml(results.error)}` : ""}</p>`;
}

function summaryCards(analysis: Analysis): string {
  const cards = analysis.variants.map((v) => {
    const lines = (["p50", "p99"] as const).flatMap((key) => {
      const m = v.latency[key];
      return m ? [`<div>${escapeHtml(METRIC_LABEL[key])}: <b>${escapeHtml(deltaText(m))}</b> ${escapeHtml(ciText(m))} ${badge(m.verdict, VERDICT_TONE[m.verdict] ?? "neutral").html}</div>`] : [];
    });
    const exceeded = v.budgetChecks.filter((b) => b.result === "exceeded").length;
    const inconclusive = v.budgetChecks.filter((b) => b.result === "inconclusive").length;
    const budgets =
      v.budgetChecks.length === 0
        ? ""
        : `<div>budgets: ${exceeded > 0 ? badge(`${exceeded} exceeded`, "bad").html : badge("all within", "good").html}${inconclusive > 0 ? ` ${badge(`${inconclusive} inconclusive`, "warn").html}` : ""}</div>`;
    return `<div class="card"><div class="title">${escapeHtml(v.variant)} vs baseline</div>${lines.join("")}<div>pod vCPU per 1000 req/s: ${escapeHtml(signed(v.podVcpuPer1kRpsDelta))}</div>${budgets}</div>`;
  });
  return `<div class="cards">${cards.join("")}</div>`;
}

function signed(value: number): string {
  return !Number.isFinite(value) ? "–" : `${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value).toFixed(3)}`;
}

function summary(results: Results): string {
  const thresholds = results.thresholds;
  const analysis = results.analysis;
  const parts: string[] = [];
  if (!analysis) {
    parts.push(`<p>No analysis: ${results.trials.filter((t) => !t.warmup).length} measured trial(s) finished; at least two complete rounds are needed.</p>`);
  } else {
    const atRate = results.sweep ? `, at the sweep's lightest rate (${results.sweep.ratesPerSec[0]} req/s)` : "";
    parts.push(`<p class="caption">${escapeHtml(`${analysis.rounds} paired rounds; median of the paired Δ with a bootstrap 95% CI, judged against the A/A noise floor${atRate}.`)}</p>`, summaryCards(analysis));
    const rows: Cell[][] = analysis.variants.flatMap((v) =>
      Object.values(v.latency).map((m) => [v.variant, METRIC_LABEL[m.metric] ?? m.metric, num(deltaText(m)), num(ciText(m)), num(floorText(m)), num(m.pValueWilcoxon < 0.001 ? "< 0.001" : m.pValueWilcoxon.toFixed(3)), badge(m.verdict, VERDICT_TONE[m.verdict] ?? "neutral")]),
    );
    parts.push(table(["variant", "metric", "Δ median", "95% CI", "A/A floor", "p (Wilcoxon)", "verdict"], rows));
  }
  if (thresholds && thresholds.length > 0) {
    parts.push(
      "<h3>Thresholds (spec.thresholds, the run's SLOs)</h3>",
      table(
        ["variant", "metric", "limit", "measured", "95% CI", "result", "why"],
        thresholds.map((t) => [
          t.variant,
          t.metric,
          num(`${t.limit} ${t.unit}`),
          num(t.measured === null ? "–" : `${Number(t.measured.toFixed(3))} ${t.unit}`),
          num(t.ci95 ? `[${Number(t.ci95.low.toFixed(3))}, ${Number(t.ci95.high.toFixed(3))}]` : "–"),
          badge(t.result, VERDICT_TONE[t.result] ?? "neutral"),
          t.message ?? "",
        ]),
      ),
    );
  }
  if (results.notSupported && results.notSupported.length > 0) {
    parts.push("<h3>Not supported for this workload (left out, not failed)</h3>", list(results.notSupported.map((n) => `${n.variant}: ${n.reason}`)));
  }
  return parts.join("\n");
}

function noiseFloorTable(analysis: Analysis): string | null {
  if (!analysis.noiseFloor) return null;
  const rows = Object.values(analysis.noiseFloor.latency)
    .filter((f) => f.unit === "us")
    .map((f): Cell[] => [METRIC_LABEL[f.metric] ?? f.metric, num(deltaText(f)), num(ciText(f)), num(`±${formatUs(f.halfWidth)}`)]);
  return `<h3>Noise floor (A/A: the baseline against itself)</h3>${table(["metric", "Δ median", "95% CI", "half-width h"], rows)}`;
}

function resourcesSection(analysis: Analysis): string {
  const rows: Cell[][] = [
    ...analysis.baselineResources.map((c) => ["baseline", c] as const),
    ...analysis.variants.flatMap((v) => v.resources.map((c) => [v.variant, c] as const)),
  ].map(([pod, c]) => [pod, `${c.container} (${c.kind})`, num(fixed(c.vcpuMedian, 3)), num(fixed(c.vcpuPer1kRpsMedian, 3)), num(fixed(c.memoryAvgMiBMedian, 1)), num(fixed(c.memoryPeakMiB, 1)), num(fixed(c.idleMemoryMiB, 1)), num(c.timeToReadyMs === null ? "–" : `${Math.round(c.timeToReadyMs)} ms`), num(c.throttledPeriods)]);
  const budgets: Cell[][] = analysis.variants.flatMap((v) => v.budgetChecks.map((b) => [v.variant, b.container, b.budget, num(`${b.limit} ${b.unit}`), num(formatBudgetMeasure(b)), badge(b.result, VERDICT_TONE[b.result] ?? "neutral")]));
  return [
    table(["pod", "container", "vCPU", "vCPU per 1000 req/s", "memory avg MiB", "peak MiB", "idle MiB", "time to ready", "throttled periods"], rows),
    budgets.length > 0 ? `<h3>Budget checks</h3>${table(["variant", "container", "budget", "limit", "measured", "result"], budgets)}` : "",
  ].join("\n");
}

function tokenStreamSection(stream: TokenStreamAnalysis): string {
  const armRows: Cell[][] = stream.arms.map((a) => [a.arm, num(formatUs(a.ttftP50Us)), num(formatUs(a.ttftP99Us)), num(formatUs(a.itlP50Us)), num(formatUs(a.itlP99Us)), num(formatUs(a.endToEndP50Us)), num(formatUs(a.endToEndP99Us)), num(fixed(a.tokensPerSec, 1)), num(fixed(a.streamTokensPerSec, 1))]);
  const deltaRowsHtml: Cell[][] = stream.variants.flatMap((v) =>
    (["ttft", "itl"] as const).flatMap((measure) => Object.values(v[measure]).map((m): Cell[] => [v.variant, `${measure.toUpperCase()} ${METRIC_LABEL[m.metric] ?? m.metric}`, num(deltaText(m)), num(ciText(m)), num(floorText(m)), badge(m.verdict, VERDICT_TONE[m.verdict] ?? "neutral")])),
  );
  return [
    `<p class="caption">Time to first token (TTFT) from the scheduled send, inter-token latency (ITL), end-to-end to the last byte; medians over the rounds of each trial's percentile.</p>`,
    table(["arm", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "end-to-end p50", "end-to-end p99", "tokens/s", "tokens/s per stream"], armRows),
    deltaRowsHtml.length > 0 ? `<h3>Added per token</h3>${table(["variant", "metric", "Δ median", "95% CI", "A/A floor", "verdict"], deltaRowsHtml)}` : "",
  ].join("\n");
}

function loadQuality(trials: TrialResult[]): string | null {
  const measured = trials.filter((t) => !t.warmup);
  if (measured.length === 0) return null;
  const arms = [...new Set(measured.map((t) => t.arm))];
  const rows = arms.map((arm): Cell[] => {
    const own = measured.filter((t) => t.arm === arm);
    const errors = own.reduce((sum, t) => sum + Object.values(t.load.errors ?? {}).reduce((a, b) => a + b, 0), 0);
    const pacing = own.map((t) => t.pacingErrorUs?.p99 ?? NaN).filter(Number.isFinite);
    return [arm, num(own.length), num(own.reduce((sum, t) => sum + t.load.ok, 0)), num(errors), num(median(own.map((t) => t.load.achievedRatePerSec)).toFixed(1)), num(own.filter((t) => t.load.rateShortfall).length), num(pacing.length > 0 ? formatUs(median(pacing)) : "–")];
  });
  return table(["arm", "trials", "ok requests", "errors", "achieved req/s (median)", "trials short of rate", "pacing error p99 (median)"], rows);
}

/** The page's sections and charts, so that compare can put a run's charts into its own report. */
export function runReportParts(results: Results, idPrefix = ""): { sections: string[]; charts: Chart[] } {
  const charts: Chart[] = [];
  const withChart = (build: () => Chart | null): string => {
    const chart = build();
    if (!chart) return "";
    const prefixed = { ...chart, id: `${idPrefix}${chart.id}` };
    charts.push(prefixed);
    return chartBlock(prefixed);
  };
  const analysis = results.analysis;
  const sections = [
    section("Verdict", () => summary(results)),
    section("Added latency against the noise floor", () => (analysis ? withChart(() => deltaChart(deltaRows(analysis))) + (noiseFloorTable(analysis) ?? "") : null)),
    section("Latency distribution", () => withChart(() => percentileChart(results)) || null),
    section("Rounds over time", () => withChart(() => roundsChart(results)) || null),
    section("Rate sweep", () => {
      const sweep = results.sweep;
      if (!sweep) return null;
      const knees = table(
        ["arm", "knee", "first rate not sustained", "why"],
        sweep.knees.map((k) => [k.arm, num(k.kneeRatePerSec === null ? "–" : `${k.kneeRatePerSec} req/s`), num(k.saturatedAtPerSec === null ? "–" : `${k.saturatedAtPerSec} req/s`), k.reason]),
      );
      const notes = sweep.perRate.flatMap((r) => (r.note ? [r.note] : []));
      return withChart(() => sweepChart(sweep)) + `<h3>Knee per arm</h3>${knees}${notes.length > 0 ? list(notes) : ""}`;
    }),
    section("Token stream", () => {
      const stream = analysis?.tokenStream;
      if (!stream) return null;
      const chart = withChart(() => deltaChart(tokenDeltaRows(stream), { id: "chart-token-deltas", title: "Added per token, against the noise floor", subject: "the variant" }));
      return chart + tokenStreamSection(stream);
    }),
    section("Resources per container", () => (analysis ? withChart(() => resourcesChart(analysis, results.environment.accounting)) + withChart(() => budgetsChart(budgetRows(analysis))) + resourcesSection(analysis) : null)),
    section("Load quality", () => loadQuality(results.trials)),
    section("Environment", () => table(["", ""], environmentRows(results.environment).map(([k, v]) => [html(`<b>${escapeHtml(k)}</b>`), v]))),
    section("Warnings", () => (results.warnings.length > 0 ? list(results.warnings) : null)),
    section("Reaped from earlier runs", () => (results.reaped.length > 0 ? list(results.reaped) : null)),
  ];
  return { sections, charts };
}

export function runReportHtml(results: Results): string {
  const { sections, charts } = runReportParts(results);
  return htmlPage({
    title: `sidecar-bench: ${results.scenario.name} (${results.runId})`,
    body: [header(results), statusBanner(results), ...sections].join("\n"),
    charts,
    footer: `${escapeHtml(results.environment.harnessVersion)} · rendered from results.json (kind ${escapeHtml(results.kind)}, schema ${escapeHtml(results.schemaVersion)}); every figure here is recomputable from it.`,
  });
}
