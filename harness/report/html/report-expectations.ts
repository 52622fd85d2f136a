// What the end-to-end tests of run, certify and compare assert about their report.html,
// opened in Chromium: no console or page errors, no request leaving the file, and every
// chart drawn with the record's data (rows and marks counted from the record itself).
// A screenshot of each is kept under reports/test-artifacts/.
import { join } from "node:path";
import { expect } from "vitest";
import type { ComparisonResults } from "../../compare/comparison-model.ts";
import type { ConformanceReport } from "../../conformance/conformance-report.ts";
import { createLatencyHistogram, decodeHistogram } from "../../measure/histogram.ts";
import type { Results } from "../results-model.ts";
import { curvePercentiles } from "./charts/percentile-curves.ts";
import { openReport, SCREENSHOT_DIR, type OpenedReport } from "./report-browser.ts";

const DATASETS = ["points", "deltas", "rounds", "resources", "budgets", "sweep", "timeline", "claims"];

/** Any report.html: opens without console or page errors, network requests or charts that failed. */
export async function expectCleanReport(htmlFile: string, screenshot: string): Promise<OpenedReport> {
  const opened = await openReport(htmlFile, { screenshotFile: join(SCREENSHOT_DIR, screenshot), datasets: DATASETS });
  expect(opened.consoleErrors, "console errors").toEqual([]);
  expect(opened.pageErrors, "page errors").toEqual([]);
  expect(opened.externalRequests, "requests beyond the file").toEqual([]);
  expect(opened.chartErrors, "charts that failed to draw").toEqual([]);
  return opened;
}

/** Points of the percentile chart an arm should have: one per curve percentile its merged histogram reaches. */
function expectedPercentilePoints(run: Results): number {
  const measured = run.trials.filter((t) => !t.warmup);
  return run.plan.arms.reduce((sum, arm) => {
    const merged = createLatencyHistogram();
    for (const t of measured.filter((t) => t.arm === arm)) merged.add(decodeHistogram(t.histograms.latency));
    return sum + curvePercentiles(merged.totalCount).length;
  }, 0);
}

function expectPercentileChart(opened: OpenedReport, id: string, run: Results): void {
  const chart = opened.charts[id];
  expect(chart, `${id} drawn`).toBeDefined();
  const expected = expectedPercentilePoints(run);
  expect(expected).toBeGreaterThan(run.plan.arms.length * 5);
  expect(chart!.datasets["points"]).toHaveLength(expected);
  // One dot per arm and percentile.
  expect(chart!.marks["symbol"]).toBe(expected);
  expect(new Set(chart!.datasets["points"]!.map((p) => p["arm"]))).toEqual(new Set(run.plan.arms));
}

function expectDeltaChart(opened: OpenedReport, id: string, rows: number): void {
  const chart = opened.charts[id];
  expect(chart, `${id} drawn`).toBeDefined();
  expect(chart!.datasets["deltas"]).toHaveLength(rows);
  // A dot per Δ, a CI bar per Δ plus the zero line per panel, a floor band per Δ.
  expect(chart!.marks["symbol"]).toBe(rows);
  expect(chart!.marks["rect"]).toBe(rows);
}

/** A run's report.html: Δ per variant × metric, percentile curves per arm, every round per arm, resources and budgets. */
export async function expectRunReport(outDir: string, run: Results, screenshot = "run-report.png"): Promise<OpenedReport> {
  const opened = await expectCleanReport(join(outDir, "report.html"), screenshot);
  const analysis = run.analysis!;
  expectDeltaChart(opened, "chart-deltas", analysis.variants.length * 4);
  expectPercentileChart(opened, "chart-percentiles", run);
  const rounds = opened.charts["chart-rounds"]!;
  const measured = run.trials.filter((t) => !t.warmup).length;
  expect(rounds.datasets["rounds"]).toHaveLength(measured * 2);
  expect(rounds.marks["symbol"]).toBe(measured * 2);
  const containers = analysis.baselineResources.length + analysis.variants.reduce((n, v) => n + v.resources.length, 0);
  expect(opened.charts["chart-resources"]!.datasets["resources"]!.length).toBeGreaterThanOrEqual(containers * 3);
  const budgets = analysis.variants.reduce((n, v) => n + v.budgetChecks.length, 0);
  if (budgets > 0) expect(opened.charts["chart-budgets"]!.marks["symbol"]).toBe(budgets);
  expect(opened.text).toContain(`${run.scenario.name} — sidecar overhead`);
  expect(opened.text.indexOf("Verdict")).toBeLessThan(opened.text.indexOf("Latency by percentile"));
  return opened;
}

/** A certificate's report.html: every test with its verdict, and the performance Δ chart when measured. */
export async function expectCertifyReport(outDir: string, report: ConformanceReport, screenshot = "certify-report.png"): Promise<OpenedReport> {
  const opened = await expectCleanReport(join(outDir, "report.html"), screenshot);
  for (const test of report.profiles.flatMap((p) => p.tests)) expect(opened.text).toContain(test.id);
  expect(opened.text).toContain(`${report.implementation.name}`);
  if (report.performance.status === "measured") expectDeltaChart(opened, "chart-certify-deltas", report.performance.perToken ? 6 : 2);
  else expect(opened.charts["chart-certify-deltas"]).toBeUndefined();
  // A dot per claim that something measured, against its claimed line.
  const measured = report.claims.filter((c) => c.measured !== null).length;
  if (measured > 0) expect(opened.charts["chart-claims"]!.marks["symbol"]).toBe(measured);
  else expect(opened.charts["chart-claims"]).toBeUndefined();
  return opened;
}

/** A comparison's report.html: every cell of the table with its evidence, and the overhead benchmark's charts. */
export async function expectCompareReport(outDir: string, results: ComparisonResults, screenshot = "compare-report.png"): Promise<OpenedReport> {
  const opened = await expectCleanReport(join(outDir, "report.html"), screenshot);
  expect(opened.text).toContain("The table, measured");
  for (const cell of results.table) expect(opened.text).toContain(cell.measured);
  const run = results.overhead;
  if (run?.analysis) {
    expectDeltaChart(opened, "chart-overhead-deltas", run.analysis.variants.length * 4);
    expectPercentileChart(opened, "chart-overhead-percentiles", run);
  }
  // A dot per time bin with requests in it, per stream of each episode; a trigger line per episode.
  const bins = results.episodes.flatMap((e) => e.streams.flatMap((s) => s.timeline.filter((b) => b.ok + b.failed > 0))).length;
  if (bins > 0) {
    const timeline = opened.charts["chart-episodes"];
    expect(timeline, "chart-episodes drawn").toBeDefined();
    expect(timeline!.datasets["timeline"]).toHaveLength(bins);
    expect(timeline!.marks["symbol"]).toBe(bins);
    const drawn = results.episodes.filter((e) => e.streams.some((s) => s.timeline.some((b) => b.ok + b.failed > 0)));
    expect(timeline!.marks["rule"]).toBe(drawn.length);
  }
  return opened;
}
