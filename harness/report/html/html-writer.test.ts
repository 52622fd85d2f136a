// The HTML writers on stored real records (a short run's results.json, a certificate):
// what each chart embeds, escaping of anything that ends up in the page, and records with
// fields absent (an interrupted run without analysis, older results) rendering cleanly.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ConformanceReport } from "../../conformance/conformance-report.ts";
import { createLatencyHistogram, decodeHistogram } from "../../measure/histogram.ts";
import type { Results } from "../results-model.ts";
import type { ComparisonResults } from "../../compare/comparison-model.ts";
import { certifyReportHtml } from "./certify-report.ts";
import { compareReportHtml } from "./compare-report.ts";
import { curvePercentiles } from "./charts/percentile-curves.ts";
import { escapeHtml, jsonForScript } from "./escape.ts";
import { runReportHtml } from "./run-report.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const runResults = (): Results => JSON.parse(readFileSync(join(fixtures, "run-results.json"), "utf8")) as Results;
const comparison = (): ComparisonResults => JSON.parse(readFileSync(join(fixtures, "comparison-results.json"), "utf8")) as ComparisonResults;
const certificate = (): ConformanceReport => JSON.parse(readFileSync(join(fixtures, "conformance.json"), "utf8")) as ConformanceReport;

interface EmbeddedChart {
  id: string;
  spec: { datasets: Record<string, Array<Record<string, unknown>>> };
}

/** The charts as the page's bootstrap reads them (JSON.parse of the script element's text). */
function embeddedCharts(page: string): EmbeddedChart[] {
  const match = /<script type="application\/json" id="sb-charts">([\s\S]*?)<\/script>/.exec(page);
  expect(match, "the page has its charts' JSON").not.toBeNull();
  return JSON.parse(match![1]!) as EmbeddedChart[];
}

/** The page with the inlined libraries cut out: what the writers themselves produced. */
function ownMarkup(page: string): string {
  return page.replace(/<script>\/\* vega[\s\S]*?<\/script>/g, "");
}

describe("report.html of a run", () => {
  it("embeds every chart with the run's data: percentile curves recomputed from the histograms, Δ per variant and metric, every round", () => {
    const results = runResults();
    const page = runReportHtml(results);
    const charts = new Map(embeddedCharts(page).map((c) => [c.id, c]));
    expect([...charts.keys()].sort()).toEqual(["chart-budgets", "chart-deltas", "chart-percentiles", "chart-resources", "chart-rounds"]);
    // Self-contained: the three libraries inline, no script or stylesheet fetched.
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    for (const library of ["vega", "vega-lite", "vega-embed"]) expect(page).toContain(`<script>/* ${library} */`);

    const measured = results.trials.filter((t) => !t.warmup);
    const points = charts.get("chart-percentiles")!.spec.datasets["points"]!;
    for (const arm of results.plan.arms) {
      const merged = createLatencyHistogram();
      for (const t of measured.filter((t) => t.arm === arm)) merged.add(decodeHistogram(t.histograms.latency));
      const own = points.filter((p) => p["arm"] === arm);
      expect(own.map((p) => p["percentile"])).toEqual(curvePercentiles(merged.totalCount));
      expect(own.length).toBeGreaterThan(10);
      for (const p of own) expect(p["latencyMs"]).toBe(merged.getValueAtPercentile(p["percentile"] as number) / 1000);
    }
    expect(new Set(points.map((p) => p["arm"]))).toEqual(new Set(results.plan.arms));

    const deltas = charts.get("chart-deltas")!.spec.datasets["deltas"]!;
    const variants = results.analysis!.variants;
    expect(deltas).toHaveLength(variants.length * 4);
    const p99 = deltas.find((d) => d["metric"] === "p99")!;
    expect(p99["deltaMs"]).toBeCloseTo(variants[0]!.latency["p99"]!.deltaMedian / 1000, 3);
    expect(p99["floorMs"]).toBeCloseTo(variants[0]!.latency["p99"]!.noiseFloorHalfWidth / 1000, 3);

    expect(charts.get("chart-rounds")!.spec.datasets["rounds"]).toHaveLength(measured.length * 2);
    expect(charts.get("chart-budgets")!.spec.datasets["budgets"]).toHaveLength(variants.flatMap((v) => v.budgetChecks).length);
    // Verdict first: the summary precedes every chart.
    expect(page.indexOf("<h2>Verdict</h2>")).toBeLessThan(page.indexOf('id="chart-deltas"'));
    expect(page).not.toContain("could not be rendered");
  });

  it("escapes what the results carry: a scenario name or warning with </script> or markup stays text, and the charts' JSON still parses", () => {
    const results = runResults();
    const hostile = `</script><script>alert("x")</script><!-- & 'quoted'`;
    results.scenario.name = hostile;
    results.warnings = [hostile];
    results.plan.arms = results.plan.arms.map((a) => (a === "envoy" ? hostile : a));
    for (const t of results.trials) if (t.arm === "envoy") t.arm = hostile;
    const page = runReportHtml(results);
    expect(ownMarkup(page)).not.toContain(hostile);
    expect(ownMarkup(page)).not.toContain("<script>alert");
    expect(page).toContain(escapeHtml(hostile));
    const points = embeddedCharts(page).find((c) => c.id === "chart-percentiles")!.spec.datasets["points"]!;
    expect(points.some((p) => p["arm"] === hostile)).toBe(true);
    expect(jsonForScript({ s: "</script>\u2028" })).toBe('{"s":"\\u003c/script\\u003e\\u2028"}');
  });

  it("renders an interrupted run without analysis, trials or optional fields, saying what is missing", () => {
    const results = runResults();
    results.status = "interrupted";
    results.finishedAt = null;
    results.analysis = null;
    results.trials = [];
    results.error = "interrupted by <Ctrl-C>";
    delete results.primary;
    delete results.environment.images;
    const page = runReportHtml(results);
    expect(embeddedCharts(page)).toEqual([]);
    expect(page).toContain("This run is interrupted: 0 measured trial(s) kept. Error: interrupted by &lt;Ctrl-C&gt;");
    expect(page).toContain("No analysis: 0 measured trial(s) finished");
    expect(page).toContain("<h2>Environment</h2>");
    expect(page).not.toContain("could not be rendered");
  });

  it("shows results.thresholds as a table when the run has them", () => {
    const results = runResults();
    results.thresholds = [
      { variant: "envoy", metric: "addedP99Ms", limit: 1, unit: "ms", measured: 49.152, ci95: { low: 6.8, high: 60.672 }, result: "fail", message: "the whole CI is above 1 ms" },
      { variant: "caddy", metric: "memoryMiB", limit: 64, unit: "MiB", measured: null, result: "inconclusive" },
    ];
    const page = runReportHtml(results);
    expect(page).toContain("<h3>Thresholds (spec.thresholds, the run's SLOs)</h3>");
    expect(page).toMatch(/<td>envoy<\/td><td>addedP99Ms<\/td><td class="num">1 ms<\/td><td class="num">49\.152 ms<\/td><td class="num">\[6\.8, 60\.672\]<\/td><td><span class="badge bad">fail<\/span><\/td><td>the whole CI is above 1 ms<\/td>/);
    expect(page).toMatch(/<td>caddy<\/td><td>memoryMiB<\/td><td class="num">64 MiB<\/td><td class="num">–<\/td>/);
  });
});

describe("report.html of a certificate", () => {
  it("has the verdict table with each test's message, evidence folded, and the performance Δ chart", () => {
    const report = certificate();
    const failed = { ...report.profiles[0]!.tests[0]!, verdict: "failed" as const, message: "answered 502 <b>" };
    report.profiles[0]!.tests[0] = failed;
    report.profiles[0]!.failedTests = [{ id: failed.id, level: failed.level, message: failed.message, evidence: { status: 502, body: "</script>" } }];
    const page = certifyReportHtml(report);
    expect(page).toContain(`<code>${failed.id}</code>`);
    expect(page).toContain("answered 502 &lt;b&gt;<details><summary>evidence</summary><pre>{\n  &quot;status&quot;: 502,\n  &quot;body&quot;: &quot;&lt;/script&gt;&quot;\n}</pre></details>");
    const charts = embeddedCharts(page);
    expect(charts.map((c) => c.id)).toEqual(["chart-claims", "chart-certify-deltas"]);
    expect(charts[0]!.spec.datasets["budgets"]!.map((d) => [d["budget"], d["limit"]])).toEqual(report.claims.filter((c) => c.measured !== null).map((c) => [`${c.budget} · ${c.unit}`, c.claimed]));
    expect(charts[1]!.spec.datasets["deltas"]!.map((d) => d["metric"])).toEqual(["p50", "p99"]);
  });

  it("links the benchmark's report only from a plain relative resultsDir: a scheme or a path out of the folder gets no link", () => {
    const withDir = (resultsDir: string) => {
      const report = certificate();
      if (report.performance.status !== "measured") throw new Error("fixture certificate has no performance figures");
      report.performance.resultsDir = resultsDir;
      return ownMarkup(certifyReportHtml(report));
    };
    expect(withDir("performance")).toContain('<a href="performance/report.html">performance/report.html</a>');
    for (const hostile of ["javascript:alert(1)//", "java\tscript:alert(1)", "../../elsewhere", "/etc", "\\\\evil.example\\share", "https://evil.example"]) {
      const page = withDir(hostile);
      expect(page, hostile).not.toMatch(/<a href="[^"]*report\.html"/);
      expect(page, hostile).toContain("The benchmark's own report is not linked: performance.resultsDir");
    }
  });

  it("renders a certificate whose performance was not measured, without a chart", () => {
    const report = certificate();
    report.performance = { status: "not-measured", reason: "--no-performance" };
    report.claims = [];
    const page = certifyReportHtml(report);
    expect(embeddedCharts(page)).toEqual([]);
    expect(page).toContain("Not measured: --no-performance");
    expect(page).not.toContain("could not be rendered");
  });
});

describe("report.html of a comparison", () => {
  it("has every cell of the table with its measured value and its evidence folded, and the overhead charts", () => {
    const results = comparison();
    const page = compareReportHtml(results);
    expect(page.match(/<details><summary>evidence<\/summary>/g)).toHaveLength(results.table.length);
    for (const cell of results.table) expect(page).toContain(`measured: ${escapeHtml(cell.measured)}`);
    const charts = embeddedCharts(page);
    expect(charts.map((c) => c.id)).toEqual(["chart-overhead-deltas", "chart-overhead-percentiles", "chart-episodes"]);
    const bins = results.episodes.flatMap((e) => e.streams.flatMap((s) => s.timeline.filter((b) => b.ok + b.failed > 0)));
    expect(charts[2]!.spec.datasets["timeline"]).toHaveLength(bins.length);
    expect(charts[0]!.spec.datasets["deltas"]).toHaveLength(results.overhead!.analysis!.variants.length * 4);
    expect(page).toContain('<a href="overhead/report.html">');
  });

  it("renders a comparison stopped before the benchmark and the episodes", () => {
    const results = comparison();
    results.status = "failed";
    results.error = "the sidecar <never> started";
    results.overhead = null;
    results.episodes = [];
    results.table = [];
    const page = compareReportHtml(results);
    expect(embeddedCharts(page)).toEqual([]);
    expect(page).toContain("The run stopped with an error: the sidecar &lt;never&gt; started");
    expect(page).not.toContain("<h2>Fault episodes</h2>");
    expect(page).not.toContain("could not be rendered");
  });
});
