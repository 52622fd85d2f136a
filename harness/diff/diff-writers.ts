// diff's outputs: Markdown for a pull-request comment (also printed), the report as JSON,
// and JUnit with one case per gating metric and per changed certificate test.
import { formatUs, markdownTable } from "../report/markdown-writer.ts";
import { junitXml, type JunitCase } from "../report/junit-writer.ts";
import type { DiffReport, MetricChange } from "./diff-model.ts";

const OUTCOME_TITLE: Record<DiffReport["outcome"], string> = {
  regression: "❌ regression",
  "no-regression": "✅ no regression",
  incomparable: "⚠️ not comparable",
};

const VERDICT_TEXT: Record<MetricChange["verdict"], string> = {
  regression: "**regression**",
  improvement: "improvement",
  "within-noise": "within noise",
  undecided: "undecided (too few rounds)",
};

export function formatValue(value: number, unit: MetricChange["unit"], signed = false): string {
  const sign = signed && value > 0 ? "+" : "";
  if (unit === "us") return `${sign}${formatUs(value)}`;
  const text = unit === "vCPU" ? value.toFixed(3) : value.toFixed(1);
  return `${sign}${text.replace("-", "−")} ${unit}`;
}

function ciText(m: MetricChange): string {
  return `[${formatValue(m.ci95.low, m.unit, true)}, ${formatValue(m.ci95.high, m.unit, true)}]`;
}

/** One line per metric for JUnit messages and the terminal. */
export function describeChange(m: MetricChange): string {
  return `${m.variant} ${m.label}: ${formatValue(m.base, m.unit)} → ${formatValue(m.head, m.unit)}, change ${formatValue(m.change, m.unit, true)} ${ciText(m)} (95% CI, ${m.method}); noise floor ±${formatValue(m.floor, m.unit)}, tolerance ${formatValue(m.tolerance, m.unit)}: ${m.verdict}`;
}

export function diffMarkdown(report: DiffReport): string {
  const lines = [`## sidecar-bench diff: ${OUTCOME_TITLE[report.outcome]}`, ""];
  lines.push(`base \`${report.base.file}\` (${report.base.kind} ${report.base.runId}) → head \`${report.head.file}\` (${report.head.kind} ${report.head.runId}); tolerance ${report.tolerance}.`, "");
  if (report.incomparable.length > 0) {
    lines.push("The inputs cannot be compared:", "", ...report.incomparable.map((i) => `- ${i.message}`), "");
  }
  if (report.metrics.length > 0) {
    lines.push(
      "### Sidecar overhead, head − base",
      "",
      markdownTable(
        ["variant", "metric", "base", "head", "change [95% CI]", "noise floor", "tolerance", "verdict"],
        report.metrics.map((m) => [
          m.variant,
          m.gating ? m.label : `${m.label} (shown only)`,
          formatValue(m.base, m.unit),
          formatValue(m.head, m.unit),
          `${formatValue(m.change, m.unit, true)} ${ciText(m)}`,
          `±${formatValue(m.floor, m.unit)}`,
          formatValue(m.tolerance, m.unit),
          VERDICT_TEXT[m.verdict],
        ]),
      ),
      "",
      "A regression's whole CI is above both the noise floor and the tolerance; an improvement's below their negatives; anything else is within noise. Noise floor: latency √(base A/A floor² + head A/A floor²); CPU the share by which the bare primary's own vCPU per 1000 req/s moved between the runs, of the base overhead; memory none, and it is shown only (one pod per run says nothing of how a fresh start of the same sidecar differs; gate memory with a memoryMiB threshold).",
      "",
    );
  }
  const status = report.performanceStatus;
  if (status?.regression) lines.push(`### Performance: ${status.base} → ${status.head}`, "", `**regression**: ${status.message}.`, "");
  if (report.tests) {
    const t = report.tests;
    lines.push(`### Conformance: ${t.baseResult} → ${t.headResult}`, "");
    if (t.changes.length === 0) lines.push(`No test changed its verdict (${t.unchanged} tests).`, "");
    else lines.push(markdownTable(["test", "level", "base", "head", "change"], t.changes.map((c) => [c.id, c.level, c.base, c.head, c.change === "regression" ? "**regression**" : c.change])), "", `${t.unchanged} other tests kept their verdict.`, "");
  }
  if (report.warnings.length > 0) lines.push("### Warnings", "", ...report.warnings.map((w) => `- ${w}`), "");
  return `${lines.join("\n").trimEnd()}\n`;
}

export function diffJson(report: DiffReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function diffJunit(report: DiffReport): string {
  const cases: JunitCase[] = [
    ...report.incomparable.map((i): JunitCase => ({ className: "comparability", name: i.field, result: "failed", message: i.message })),
    ...report.metrics.filter((m) => m.gating).map((m): JunitCase => ({ className: m.variant, name: m.metric, result: m.verdict === "regression" ? "failed" : m.verdict === "undecided" ? "skipped" : "passed", message: describeChange(m) })),
    ...(report.performanceStatus
      ? [{ className: "performance", name: "status", result: report.performanceStatus.regression ? "failed" : report.performanceStatus.head === "measured" ? "passed" : "skipped", message: report.performanceStatus.message } satisfies JunitCase]
      : []),
    ...(report.tests?.changes ?? []).map(
      (c): JunitCase => ({ className: "conformance", name: c.id, result: c.change === "regression" ? "failed" : c.change === "not-run" ? "skipped" : "passed", message: `${c.base} → ${c.head} (${c.change})` }),
    ),
  ];
  return junitXml([{ name: `sidecar-bench diff ${report.base.runId} → ${report.head.runId}`, cases }]);
}
