// report.html of `certify`: the result and why first, then per profile every test's
// verdict with its message and its evidence folded, the manifest's claims against what
// was measured, the performance figures (Δ against the A/A floor as a chart), the policy
// and the environment. Rendered from the certificate (conformance.json) alone.
import type { ConformanceReport, ProfileReport, ReportedTest } from "../../conformance/conformance-report.ts";
import type { LatencyDelta } from "../../conformance/performance.ts";
import { environmentRows } from "../markdown-writer.ts";
import { checkRelativeDir } from "../relative-dir.ts";
import type { Chart } from "./chart.ts";
import { usToMs } from "./chart.ts";
import { budgetsChart, type BudgetRow } from "./charts/budgets.ts";
import { deltaChart, type DeltaRow } from "./charts/delta-ci.ts";
import { escapeHtml } from "./escape.ts";
import { fixed, formatUs, signedUs } from "./format.ts";
import { badge, foldedJson, html, list, num, section, table, type Cell, type Tone } from "./fragments.ts";
import { chartBlock, htmlPage } from "./page.ts";

const RESULT_TONE: Record<string, Tone> = { success: "good", partial: "warn", failure: "bad" };
const TEST_TONE: Record<ReportedTest["verdict"], Tone> = { passed: "good", failed: "bad", skipped: "warn", "not-supported": "neutral", "not-run": "neutral" };
const CLAIM_TONE: Record<string, Tone> = { "claim holds": "good", "claim exceeded": "bad", inconclusive: "warn", "not measured": "neutral" };

function counts(c: ProfileReport["core"]): string {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.notSupported} not supported${c.notRun > 0 ? `, ${c.notRun} not run` : ""}`;
}

function header(report: ConformanceReport): string {
  const impl = report.implementation;
  const primary = `${report.primary.name}${report.primary.version ? ` ${report.primary.version}` : ""}`;
  return `<header class="report">
<h1>${escapeHtml(impl.name)}${impl.version ? ` ${escapeHtml(impl.version)}` : ""} — conformance ${badge(report.result, RESULT_TONE[report.result] ?? "neutral").html}</h1>
<p class="meta">${escapeHtml(impl.description ?? "")}${impl.vendor ? ` (${escapeHtml(impl.vendor)})` : ""}</p>
<p class="meta">run <code>${escapeHtml(report.runId)}</code>, ${escapeHtml(report.date)}, ${escapeHtml(report.status)}; suite ${escapeHtml(report.suite.version)} (${escapeHtml(report.suite.testCount)} tests, sha256 ${escapeHtml(report.suite.testsSha256.slice(0, 12))}…); ${escapeHtml(report.runtime)} runtime; primary ${escapeHtml(primary)}</p>
<p class="meta">manifest <code>${escapeHtml(impl.manifest.file)}</code> (sha256 ${escapeHtml(impl.manifest.sha256.slice(0, 12))}…); roles: ${escapeHtml(impl.roles.join(", ") || "–")}; features: ${escapeHtml(impl.features.join(", ") || "–")}</p>
</header>`;
}

function verdictSummary(report: ConformanceReport): string {
  const cards = report.profiles.map(
    (p) => `<div class="card"><div class="title">${escapeHtml(p.name)} ${badge(p.result, RESULT_TONE[p.result] ?? "neutral").html}</div><div>core: ${escapeHtml(counts(p.core))}</div><div>extended: ${escapeHtml(counts(p.extended))}</div></div>`,
  );
  const reasons = report.resultReasons.length > 0 ? `<h3>Why not success</h3>${list(report.resultReasons)}` : "<p>Every test that applies passed.</p>";
  const extra = [
    report.profilesWithoutTests.length > 0 ? `<p>No tests yet for: ${escapeHtml(report.profilesWithoutTests.join(", "))} (not certified).</p>` : "",
    report.notApplicable.length > 0 ? `<h3>Not applicable (not run)</h3>${list(report.notApplicable.map((n) => `${n.id} (${n.cause}): ${n.reason}`))}` : "",
  ];
  return `<div class="cards">${cards.join("")}</div>${reasons}${extra.join("")}`;
}

/** Evidence is recorded on the failed, skipped and not-supported entries, by test id. */
function evidenceById(profile: ProfileReport): Map<string, Record<string, unknown>> {
  const entries = [...profile.failedTests, ...profile.skippedTests, ...profile.notSupportedTests];
  return new Map(entries.flatMap((e) => (e.evidence ? [[e.id, e.evidence] as [string, Record<string, unknown>]] : [])));
}

function profileTable(profile: ProfileReport): string {
  const evidence = evidenceById(profile);
  const rows: Cell[][] = profile.tests.map((t) => [
    html(`<code>${escapeHtml(t.id)}</code>`),
    t.level,
    badge(t.verdict, TEST_TONE[t.verdict]),
    num(t.durationMs === null ? "–" : t.durationMs >= 1000 ? `${(t.durationMs / 1000).toFixed(1)} s` : `${Math.round(t.durationMs)} ms`),
    html(`${escapeHtml(t.message ?? "")}${foldedJson("evidence", evidence.get(t.id)).html}${foldedJson("detection claim", t.detection).html}`),
  ]);
  const features = `<p class="caption">Features exercised and claimed: ${escapeHtml(profile.supportedFeatures.join(", ") || "–")}; exercised but not claimed: ${escapeHtml(profile.unsupportedFeatures.join(", ") || "–")}.${profile.uncheckedCore && profile.uncheckedCore.length > 0 ? ` Core tests unchecked (the primary lacks what they need): ${escapeHtml(profile.uncheckedCore.join(", "))}.` : ""}</p>`;
  return `<h3>${escapeHtml(profile.name)} ${badge(profile.result, RESULT_TONE[profile.result] ?? "neutral").html}</h3>${features}${table(["test", "level", "verdict", "duration", "message and evidence"], rows)}`;
}

const CLAIM_AS_BUDGET: Record<string, string> = { "claim holds": "within", "claim exceeded": "exceeded", inconclusive: "inconclusive" };

/** The measured claims as the budgets chart draws them: measured (with CI) against the claimed limit. */
function claimRows(report: ConformanceReport): BudgetRow[] {
  const name = report.implementation.name;
  return report.claims.flatMap((c) =>
    c.measured === null
      ? []
      : [{ variant: name, container: name, label: name, budget: `${c.budget} · ${c.unit}`, unit: c.unit, limit: c.claimed, measured: c.measured, low: c.ci95?.low ?? null, high: c.ci95?.high ?? null, result: CLAIM_AS_BUDGET[c.result] ?? c.result }],
  );
}

function claimsSection(report: ConformanceReport, charts: Chart[]): string | null {
  if (report.claims.length === 0) return null;
  const chart = budgetsChart(claimRows(report), {
    id: "chart-claims",
    title: "Claimed budgets against what was measured",
    caption: "Each budget the manifest claims (red line) against the figure the checks or the benchmark measured (latency: median added latency with its 95% CI). Claims never change a verdict.",
  });
  if (chart) charts.push(chart);
  return (chart ? chartBlock(chart) : "") + claimsTable(report);
}

function claimsTable(report: ConformanceReport): string {
  return table(
    ["budget", "claimed", "measured", "95% CI", "source", "result"],
    report.claims.map((c) => [
      c.budget,
      num(`${c.claimed} ${c.unit}`),
      num(c.measured === null ? "–" : `${Number(c.measured.toFixed(3))} ${c.unit}`),
      num(c.ci95 ? `[${Number(c.ci95.low.toFixed(3))}, ${Number(c.ci95.high.toFixed(3))}]` : "–"),
      c.source,
      html(`${badge(c.result, CLAIM_TONE[c.result] ?? "neutral").html}${c.note ? ` <span class="muted">${escapeHtml(c.note)}</span>` : ""}`),
    ]),
  );
}

function deltaRowOf(subject: string, metric: string, d: LatencyDelta): DeltaRow {
  return { variant: subject, metric, deltaMs: usToMs(d.deltaUs), lowMs: usToMs(d.ci95Us.low), highMs: usToMs(d.ci95Us.high), floorMs: usToMs(d.noiseFloorUs), verdict: d.verdict };
}

function performanceSection(report: ConformanceReport, charts: Chart[]): string {
  const perf = report.performance;
  if (perf.status === "not-measured") return `<p>Not measured: ${escapeHtml(perf.reason)}</p>`;
  if (perf.status === "failed") return `<p class="banner bad">The benchmark failed: ${escapeHtml(perf.error)} (what finished is in <code>${escapeHtml(perf.resultsDir)}/</code>).</p>`;
  const subject = report.implementation.name;
  const rows = [deltaRowOf(subject, "p50", perf.addedLatency.p50), deltaRowOf(subject, "p99", perf.addedLatency.p99)];
  if (perf.perToken) {
    rows.push(deltaRowOf(subject, "TTFT p50", perf.perToken.ttftP50), deltaRowOf(subject, "TTFT p99", perf.perToken.ttftP99), deltaRowOf(subject, "ITL p50", perf.perToken.itlP50), deltaRowOf(subject, "ITL p99", perf.perToken.itlP99));
  }
  const chart = deltaChart(rows, { id: "chart-certify-deltas", title: "What the sidecar adds per request, against the noise floor", subject: "with the sidecar" });
  if (chart) charts.push(chart);
  const latencyRows: Cell[][] = [
    ["p50", perf.addedLatency.p50] as const,
    ["p99", perf.addedLatency.p99] as const,
  ].map(([metric, d]) => [metric, num(formatUs(d.baselineUs)), num(signedUs(d.deltaUs)), num(`[${signedUs(d.ci95Us.low)}, ${signedUs(d.ci95Us.high)}]`), num(`±${formatUs(d.noiseFloorUs)}`), badge(d.verdict, d.verdict === "slower" ? "bad" : d.verdict === "faster" ? "good" : "neutral")]);
  const s = perf.sidecar;
  const sidecarRows: Cell[][] = [
    ["vCPU", num(fixed(s.vcpu, 3))],
    ["vCPU per 1000 req/s", num(fixed(s.vcpuPer1kRps, 3))],
    ["pod vCPU per 1000 req/s minus the primary alone", num(fixed(perf.podVcpuPer1kRpsDelta, 3))],
    ["memory avg / peak / idle MiB", num(`${fixed(s.memoryAvgMiB, 1)} / ${fixed(s.memoryPeakMiB, 1)} / ${fixed(s.idleMemoryMiB, 1)}`)],
    ["time to ready", num(s.timeToReadyMs === null ? "–" : `${Math.round(s.timeToReadyMs)} ms`)],
  ];
  const knees = perf.sweep
    ? `<h3>Rate sweep (${escapeHtml(perf.sweep.ratesPerSec.join(", "))} req/s)</h3>${table(
        ["arm", "knee", "first rate not sustained", "why"],
        perf.sweep.knees.map((k) => [k.arm, num(k.kneeRatePerSec === null ? "–" : `${k.kneeRatePerSec} req/s`), num(k.saturatedAtPerSec === null ? "–" : `${k.saturatedAtPerSec} req/s`), k.reason]),
      )}`
    : "";
  return [
    `<p class="caption">${escapeHtml(perf.workload)}; ${escapeHtml(perf.rounds)} paired rounds; ${escapeHtml(perf.accounting)} accounting; ${escapeHtml(perf.pinning)}. ${benchmarkLink(perf.resultsDir)}</p>`,
    chart ? chartBlock(chart) : "",
    table(["metric", "baseline", "Δ median", "95% CI", "A/A floor", "verdict"], latencyRows),
    `<h3>The sidecar container (${escapeHtml(s.container)})</h3>`,
    table(["", ""], sidecarRows),
    knees,
    perf.warnings.length > 0 ? `<h3>Warnings</h3>${list(perf.warnings)}` : "",
  ].join("\n");
}

/** A link to the benchmark's report only when resultsDir is a plain relative folder: the certificate may come from anyone. */
function benchmarkLink(resultsDir: string): string {
  const checked = checkRelativeDir(resultsDir);
  if (!checked.ok) return `The benchmark's own report is not linked: performance.resultsDir ${escapeHtml(checked.why)}.`;
  return `The benchmark's own report: <a href="${escapeHtml(`${checked.dir}/report.html`)}">${escapeHtml(checked.dir)}/report.html</a>.`;
}

function policySection(report: ConformanceReport): string {
  const policy = report.policy;
  const source = policy.source === "file" ? `the policy ${policy.name} (${policy.file ?? "?"}, sha256 ${policy.sha256?.slice(0, 12) ?? "?"})` : "the suite's default policy";
  return `<p>Verdicts judged by ${escapeHtml(source)}; suite config v${escapeHtml(policy.suiteConfig.version)}, ${escapeHtml(policy.suiteConfig.values.triesPerExpectation)} tries per expectation.</p>${foldedJson("thresholds and suite config", { thresholds: policy.thresholds, suiteConfig: policy.suiteConfig }).html}`;
}

export function certifyReportHtml(report: ConformanceReport): string {
  const charts: Chart[] = [];
  const sections = [
    section("Verdict", () => verdictSummary(report)),
    section("Tests", () => (report.profiles.length > 0 ? report.profiles.map(profileTable).join("\n") : null)),
    section("Claims of the manifest against what was measured", () => claimsSection(report, charts)),
    section("Performance", () => (report.performance ? performanceSection(report, charts) : null)),
    section("Policy", () => policySection(report)),
    section("Environment", () => table(["", ""], environmentRows(report.environment).map(([k, v]) => [html(`<b>${escapeHtml(k)}</b>`), v]))),
  ];
  return htmlPage({
    title: `sidecar-bench certify: ${report.implementation.name} (${report.runId})`,
    body: [header(report), ...sections].join("\n"),
    charts,
    footer: `sidecar-bench ${escapeHtml(report.suite.version)} · rendered from conformance.json (${escapeHtml(report.apiVersion)} ${escapeHtml(report.kind)}).`,
  });
}
