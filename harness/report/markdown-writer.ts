// report.md: what a person reads. The summary part is also what `run` prints.
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import type { MetricAnalysis, NoiseFloor } from "../measure/paired-analysis.ts";
import { median } from "../measure/statistics.ts";
import type { ThresholdResult } from "../experiment/thresholds.ts";
import type { BudgetCheck, ContainerCost, Results, SweepAnalysis, TokenStreamAnalysis, TrialResult } from "./results-model.ts";

const METRIC_LABEL: Record<string, string> = { p50: "p50", p90: "p90", p99: "p99", p99_9: "p99.9", throughputPerSec: "throughput" };

export function markdownTable(headers: string[], rows: Array<Array<string | number>>): string {
  const escape = (cell: string | number) => String(cell).replaceAll("|", "\\|");
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return "–";
  const sign = us < 0 ? "−" : "";
  const abs = Math.abs(us);
  return abs >= 1000 ? `${sign}${(abs / 1000).toFixed(abs >= 10_000 ? 1 : 2)} ms` : `${sign}${abs.toFixed(abs >= 100 ? 0 : 1)} µs`;
}

function formatSignedUs(us: number): string {
  return us > 0 ? `+${formatUs(us)}` : formatUs(us);
}

function formatDelta(m: MetricAnalysis | NoiseFloor): string {
  return m.unit === "us" ? formatSignedUs(m.deltaMedian) : formatPercent(m.deltaMedianPercent);
}

function formatCi(m: MetricAnalysis | NoiseFloor): string {
  return m.unit === "us"
    ? `[${formatSignedUs(m.ci95.low)}, ${formatSignedUs(m.ci95.high)}]`
    : `[${formatPercent(m.ci95Percent.low)}, ${formatPercent(m.ci95Percent.high)}]`;
}

function formatPercent(value: number): string {
  const text = Math.abs(value).toFixed(1);
  if (Number(text) === 0) return "0.0 %"; // no "-0.0"
  return `${value < 0 ? "−" : "+"}${text} %`;
}

function formatP(p: number): string {
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}

function verdictText(m: MetricAnalysis): string {
  if (m.verdict !== "not-distinguishable") return m.verdict;
  return m.noiseFloorHalfWidth > 0
    ? `not distinguishable (floor ±${m.unit === "us" ? formatUs(m.noiseFloorHalfWidth) : `${m.noiseFloorHalfWidth.toFixed(1)} %`})`
    : "not distinguishable";
}

function baselineMedian(results: Results, metric: string, field: "latencyUs" | "serviceTimeUs"): number {
  // A sweep's headline analysis is its lightest rate's: the baseline figure is too.
  const rate = results.sweep?.perRate[0]?.ratePerSec;
  const trials = results.trials.filter((t) => !t.warmup && t.arm === "baseline" && (rate === undefined || t.load.targetRatePerSec === rate));
  if (trials.length === 0) return NaN;
  return median(trials.map((t) => (metric === "throughputPerSec" ? t.load.achievedRatePerSec : (t[field] as unknown as Record<string, number>)[metric]!)));
}

/** The added-latency and resource tables: printed by `run`, and the head of report.md. */
export function summaryMarkdown(results: Results): string {
  const analysis = results.analysis;
  if (!analysis) {
    return `No analysis: ${results.trials.filter((t) => !t.warmup).length} measured trial(s) finished, at least two complete rounds are needed.`;
  }
  const parts: string[] = [];
  const latencyRows = analysis.variants.flatMap((v) =>
    Object.values(v.latency).map((m) => [
      v.variant,
      METRIC_LABEL[m.metric] ?? m.metric,
      m.unit === "us" ? formatUs(baselineMedian(results, m.metric, "latencyUs")) : `${baselineMedian(results, m.metric, "latencyUs").toFixed(1)} req/s`,
      formatDelta(m),
      formatCi(m),
      formatP(m.pValueWilcoxon),
      verdictText(m),
    ]),
  );
  const atRate = results.sweep ? `; at the sweep's lightest rate, ${results.sweep.ratesPerSec[0]} req/s` : "";
  parts.push(
    `### Added latency per request (${analysis.rounds} paired rounds; median of paired Δ, bootstrap 95% CI${atRate})`,
    markdownTable(["variant", "metric", "baseline", "Δ median", "95% CI", "p (Wilcoxon)", "verdict"], latencyRows),
  );
  if (analysis.noiseFloor) {
    const floorRows = Object.values(analysis.noiseFloor.latency)
      .filter((f) => f.unit === "us")
      .map((f) => [METRIC_LABEL[f.metric] ?? f.metric, formatDelta(f), formatCi(f), `±${formatUs(f.halfWidth)}`]);
    parts.push("### Noise floor (A/A: baseline against itself)", markdownTable(["metric", "Δ median", "95% CI", "half-width"], floorRows));
  }
  if (analysis.tokenStream) parts.push(tokenStreamMarkdown(analysis.tokenStream, analysis.rounds));
  if (results.sweep) parts.push(sweepMarkdown(results.sweep));
  if (results.notSupported && results.notSupported.length > 0) {
    parts.push(`### Not supported for this workload (left out, not failed)\n\n${results.notSupported.map((n) => `- ${n.variant}: ${n.reason}`).join("\n")}`);
  }
  const costRows = (variant: string, costs: ContainerCost[]) =>
    costs.map((c) => [
      variant,
      `${c.container} (${c.kind})`,
      c.vcpuMedian.toFixed(3),
      c.vcpuPer1kRpsMedian.toFixed(3),
      c.memoryAvgMiBMedian.toFixed(1),
      c.memoryPeakMiB.toFixed(1),
      Number.isFinite(c.idleMemoryMiB) ? c.idleMemoryMiB.toFixed(1) : "–",
      c.timeToReadyMs === null ? "–" : `${Math.round(c.timeToReadyMs)} ms`,
    ]);
  parts.push(
    `### Resources per container (median over trials; ${results.environment.accounting} accounting)`,
    markdownTable(
      ["pod", "container", "vCPU", "vCPU per 1000 req/s", "memory avg MiB", "peak MiB", "idle MiB", "time to ready"],
      [...costRows("baseline", analysis.baselineResources), ...analysis.variants.flatMap((v) => costRows(v.variant, v.resources))],
    ),
  );
  const budgetRows = analysis.variants.flatMap((v) =>
    v.budgetChecks.map((b) => [v.variant, b.container, b.budget, `${b.limit} ${b.unit}`, formatBudgetMeasure(b), b.result === "exceeded" ? "EXCEEDED" : b.result]),
  );
  if (budgetRows.length > 0) {
    parts.push(
      "### Budgets declared by the sidecars (latency: within only if the whole 95% CI is)",
      markdownTable(["variant", "container", "budget", "limit", "measured", "result"], budgetRows),
    );
  }
  if (results.thresholds && results.thresholds.length > 0) parts.push(thresholdsMarkdown(results.thresholds));
  return parts.join("\n\n");
}

/** spec.thresholds: the scenario's SLOs, judged on the whole 95% CI. */
export function thresholdsMarkdown(thresholds: readonly ThresholdResult[]): string {
  const digits = (unit: string) => (unit === "vCPU" || unit === "ms" ? 3 : 1);
  const measured = (t: ThresholdResult) =>
    t.measured === null ? "not measured" : `${t.measured.toFixed(digits(t.unit))} ${t.unit}${t.ci95 ? ` [${t.ci95.low.toFixed(digits(t.unit))}, ${t.ci95.high.toFixed(digits(t.unit))}]` : ""}`;
  return [
    "### Thresholds (spec.thresholds: pass when the whole 95% CI is within the limit, fail when all of it is above)",
    markdownTable(
      ["variant", "threshold", "limit", "measured [95% CI]", "result"],
      thresholds.map((t) => [t.variant, t.metric, `${t.limit} ${t.unit}`, measured(t), t.result === "fail" ? "FAIL" : t.result]),
    ),
  ].join("\n\n");
}

/** A rate sweep: each arm's latency against rate with CIs, its knee, and what each variant adds at each rate. */
export function sweepMarkdown(sweep: SweepAnalysis): string {
  const ci = (e: { estimate: number; low: number; high: number } | null) => (e === null ? "– (no answers)" : `${formatUs(e.estimate)} [${formatUs(e.low)}, ${formatUs(e.high)}]`);
  const curveRows = sweep.points.map((p) => [
    p.ratePerSec,
    p.arm,
    p.achievedRatePerSec.toFixed(1),
    ci(p.latencyP50Us),
    ci(p.latencyP99Us),
    `${p.rateShortfallPct.toFixed(1)} %`,
    p.errors,
  ]);
  const kneeRows = sweep.knees.map((k) => [k.arm, k.kneeRatePerSec === null ? "–" : `${k.kneeRatePerSec} req/s`, k.saturatedAtPerSec === null ? "–" : `${k.saturatedAtPerSec} req/s`, k.reason]);
  const deltaRows = sweep.perRate.flatMap(({ ratePerSec, analysis }) =>
    (analysis?.variants ?? []).flatMap((v) =>
      (["p50", "p99"] as const).flatMap((metric) => {
        const m = v.latency[metric];
        return m ? [[ratePerSec, v.variant, METRIC_LABEL[metric]!, formatDelta(m), formatCi(m), verdictText(m)]] : [];
      }),
    ),
  );
  const parts = [
    `### Rate sweep (${sweep.ratesPerSec.join(", ")} req/s)`,
    "Latency from the scheduled send, median over each rate's rounds of the round's percentile, with a bootstrap 95% CI; achieved rate and shortfall as the generator measured them. " +
      "A pod is loaded only in its arms' slots (the baseline pod in the A/A arm's too): near saturation its queue drains while others are measured, so a knee holds for load in windows of the plan's slot length — a sweep's scenario sets slotMs to durationMs for whole windows.",
    markdownTable(["rate req/s", "arm", "achieved req/s", "p50 [95% CI]", "p99 [95% CI]", "shortfall", "errors"], curveRows),
    `#### Knee per arm (the highest rate sustained: rate kept within ${sweep.kneeRule.maxRateShortfallPct} %, no errors, p99 not clearly above ${sweep.kneeRule.kneeP99Factor}× the lightest rate's)`,
    markdownTable(["arm", "knee", "first rate not sustained", "why"], kneeRows),
  ];
  const notes = sweep.perRate.flatMap((r) => (r.note ? [`- ${r.note}`] : []));
  if (notes.length > 0) parts.push(notes.join("\n"));
  if (deltaRows.length > 0) parts.push("#### Added latency at each rate (paired Δ, bootstrap 95% CI, against the A/A floor at that rate)", markdownTable(["rate req/s", "variant", "metric", "Δ median", "95% CI", "verdict"], deltaRows));
  return parts.join("\n\n");
}

/** Token streams: per-arm TTFT, ITL, end-to-end and tokens/s, then what each variant adds per token. */
export function tokenStreamMarkdown(stream: TokenStreamAnalysis, rounds: number): string {
  const rate = (value: number | null) => (value === null || !Number.isFinite(value) ? "–" : value.toFixed(1));
  const armRows = stream.arms.map((a) => [
    a.arm,
    formatUs(a.ttftP50Us),
    formatUs(a.ttftP99Us),
    formatUs(a.itlP50Us),
    formatUs(a.itlP99Us),
    formatUs(a.endToEndP50Us),
    formatUs(a.endToEndP99Us),
    rate(a.tokensPerSec),
    rate(a.streamTokensPerSec),
  ]);
  const parts = [
    "### Token stream",
    "Time to first token (TTFT) from the scheduled send, inter-token latency (ITL) between consecutive tokens of a stream, end-to-end from the scheduled send to the last byte; medians over the rounds of each trial's percentile. tokens/s: the arm's token throughput; per stream: one stream's decode rate after its first token.",
    markdownTable(["arm", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "end-to-end p50", "end-to-end p99", "tokens/s", "tokens/s per stream"], armRows),
  ];
  const deltaRows = stream.variants.flatMap((v) =>
    (["ttft", "itl"] as const).flatMap((measure) =>
      Object.values(v[measure]).map((m) => [v.variant, `${measure.toUpperCase()} ${METRIC_LABEL[m.metric] ?? m.metric}`, formatDelta(m), formatCi(m), formatP(m.pValueWilcoxon), verdictText(m)]),
    ),
  );
  if (deltaRows.length > 0) {
    parts.push(
      `#### Added per token (${rounds} paired rounds; median of paired Δ, bootstrap 95% CI)`,
      markdownTable(["variant", "metric", "Δ median", "95% CI", "p (Wilcoxon)", "verdict"], deltaRows),
    );
  }
  if (stream.noiseFloor) {
    const floor = stream.noiseFloor;
    const floorRows = (["ttft", "itl"] as const).flatMap((measure) =>
      Object.values(floor[measure]).map((f) => [`${measure.toUpperCase()} ${METRIC_LABEL[f.metric] ?? f.metric}`, formatDelta(f), formatCi(f), `±${formatUs(f.halfWidth)}`]),
    );
    parts.push("#### Token-stream noise floor (A/A: baseline against itself)", markdownTable(["metric", "Δ median", "95% CI", "half-width"], floorRows));
  }
  return parts.join("\n\n");
}

export function formatBudgetMeasure(b: BudgetCheck): string {
  const value = `${Number(b.measured.toFixed(3))} ${b.unit}`;
  return b.ci95 ? `${value} [${Number(b.ci95.low.toFixed(3))}, ${Number(b.ci95.high.toFixed(3))}]` : value;
}

/** The run's workload in one line: the request, the load, and the sweep's rates if any. */
export function describeWorkload(results: Results): string {
  const spec = results.scenario.spec as { workload: { request: Record<string, unknown>; load: Record<string, unknown> } };
  const load = spec.workload.load;
  const loadText =
    load.mode === "open"
      ? `open loop, ${load.arrival} arrivals at ${load.ratePerSec} req/s, up to ${load.maxConnections} connections`
      : load.mode === "vegeta"
        ? `open loop sent by vegeta, constant arrivals at ${load.ratePerSec} req/s, up to ${load.maxConnections} connections per arm`
        : `closed loop, ${load.connections} connections`;
  const sweepText = results.sweep ? `; swept over ${results.sweep.ratesPerSec.join(", ")} req/s in turn (in place of ${load.ratePerSec})` : "";
  return `${describeRequest(spec.workload.request)}; ${loadText}${sweepText}`;
}

export function reportMarkdown(results: Results): string {
  const sections = [
    `# sidecar-bench: ${results.scenario.name}`,
    [
      `- run: \`${results.runId}\` — **${results.status}**${results.error ? ` (${results.error})` : ""}, ${results.startedAt} → ${results.finishedAt ?? "…"}`,
      `- scenario: \`${results.scenario.file}\` (sha256 ${results.scenario.sha256.slice(0, 12)}…), seed ${results.plan.seed}`,
      ...(results.primary ? [`- primary: ${results.primary.name}${results.primary.version ? ` ${results.primary.version}` : ""} (\`${results.primary.file}\`)`] : []),
      `- workload: ${describeWorkload(results)}`,
      `- design: ${results.plan.rounds} rounds × arms [${results.plan.arms.join(", ")}], ` +
        (results.plan.interleaving === "slots"
          ? `the arms alternating within each round in ${results.plan.slotMs} ms slots (each arm ${(results.plan.trialDurationMs / 1000).toFixed(1)} s, ≥ ${results.plan.minRequests} requests), slot order shuffled from the seed`
          : `one trial per arm per round of ${(results.plan.trialDurationMs / 1000).toFixed(1)} s, order shuffled per round from the seed`) +
        `; ${(results.plan.warmupMs / 1000).toFixed(1)} s warm-up per arm`,
      `- outlier rule: ${results.plan.outlierRule}`,
    ].join("\n"),
    "## Summary",
    summaryMarkdown(results),
    "## Load quality",
    loadQuality(results.trials),
    "## Environment",
    markdownTable(["", ""], environmentRows(results.environment)),
  ];
  if (results.warnings.length > 0) sections.push("## Warnings", results.warnings.map((w) => `- ${w}`).join("\n"));
  if (results.reaped.length > 0) sections.push("## Reaped from earlier runs", results.reaped.map((w) => `- ${w}`).join("\n"));
  return `${sections.join("\n\n")}\n`;
}

function describeRequest(request: Record<string, unknown>): string {
  if (request["kind"] === "generate_stream") {
    const interval = typeof request["tokenIntervalMs"] === "number" ? `, a token every ${request["tokenIntervalMs"]} ms` : "";
    const model = typeof request["model"] === "string" ? ` to model ${request["model"]}` : "";
    return `token streams (generate_stream, Server-Sent Events)${model}, ${String(request["maxTokens"])} tokens per request${interval}`;
  }
  const inputs = (request["inputs"] as Array<{ name: string; datatype: string; shape: number[] }>).map((i) => `${i.name} ${i.datatype}[${i.shape.join("×")}]`).join(", ");
  const model = typeof request["model"] === "string" ? ` to model ${request["model"]}` : "";
  if (request["protocol"] === "grpc") return `KServe v2 gRPC ModelInfer (raw tensors)${model}, ${inputs}`;
  return `KServe v2 infer${model}, ${String(request["format"])} body, ${inputs}`;
}

/** The fingerprint as label/value rows; engine and images only where the runtime has them (docker). */
export function environmentRows(env: EnvironmentFingerprint): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ["CPU", `${env.cpuModel} × ${env.cores}`],
    ["memory", `${env.memoryGiB} GiB`],
    ["OS / kernel", `${env.os} / ${env.kernel}`],
    ["node / python / envoy", `${env.node} / ${env.python ?? "–"} / ${env.envoy ?? "–"}`],
    ["runtime / accounting", `${env.runtime}${env.engineVersion ? ` (engine ${env.engineVersion}${env.portPublishing ? `, ports via ${env.portPublishing}` : ""})` : ""} / ${env.accounting}`],
  ];
  const images = Object.entries(env.images ?? {});
  if (images.length > 0) {
    rows.push(["images", images.map(([name, id]) => `${name} (${id.replace(/^sha256:/, "").slice(0, 12)})`).join(", ")]);
  }
  rows.push(["load generator", env.loadGenerator], ["pinning", env.pinning], ["harness", env.harnessVersion]);
  return rows;
}

function loadQuality(trials: TrialResult[]): string {
  const arms = [...new Set(trials.filter((t) => !t.warmup).map((t) => t.arm))];
  const rows = arms.map((arm) => {
    const own = trials.filter((t) => !t.warmup && t.arm === arm);
    const errors = own.reduce((sum, t) => sum + Object.values(t.load.errors).reduce((a, b) => a + b, 0), 0);
    const pacing = own.map((t) => t.pacingErrorUs?.p99 ?? NaN).filter(Number.isFinite);
    return [
      arm,
      own.length,
      own.reduce((sum, t) => sum + t.load.ok, 0),
      errors,
      median(own.map((t) => t.load.achievedRatePerSec)).toFixed(1),
      own.filter((t) => t.load.rateShortfall).length,
      pacing.length > 0 ? formatUs(median(pacing)) : "–",
    ];
  });
  return markdownTable(["arm", "trials", "ok requests", "errors", "achieved req/s (median)", "trials short of rate", "pacing error p99 (median)"], rows);
}
