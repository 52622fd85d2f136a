// What `certify` prints: one progress line per test while it runs, then a table of every
// verdict, the profile results and the performance figures.
import { formatBudgetMeasure, formatUs, markdownTable } from "../report/markdown-writer.ts";
import type { ConformanceReport } from "./conformance-report.ts";
import type { VerdictRecord } from "./verdict-record.ts";

const MESSAGE_WIDTH = 110;

export function formatDurationMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** `[ 3/17] proxy.headers-pass-through          passed         812 ms` */
export function progressLine(record: Pick<VerdictRecord, "id" | "verdict" | "durationMs">, done: number, total: number): string {
  const width = String(total).length;
  return `[${String(done).padStart(width)}/${total}] ${record.id.padEnd(44)} ${record.verdict.padEnd(13)} ${formatDurationMs(record.durationMs).padStart(8)}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MESSAGE_WIDTH ? `${flat.slice(0, MESSAGE_WIDTH - 1)}…` : flat;
}

export function verdictTable(report: ConformanceReport): string {
  const rows = report.profiles.flatMap((p) =>
    p.tests.map((t) => [
      t.id,
      t.level,
      t.verdict === "failed" ? "**FAILED**" : t.verdict,
      t.durationMs === null ? "–" : formatDurationMs(t.durationMs),
      oneLine(t.message ?? ""),
    ]),
  );
  const profileRows = report.profiles.map((p) => [
    p.name,
    p.result,
    countsText(p.core),
    countsText(p.extended),
  ]);
  const parts = [
    `### Conformance of ${report.implementation.name}${report.implementation.version ? ` ${report.implementation.version}` : ""} (suite ${report.suite.version}, ${report.runtime} runtime)`,
    markdownTable(["test", "level", "verdict", "duration", "message"], rows),
    markdownTable(["profile", "result", "core (passed/failed/skipped/not-supported)", "extended"], profileRows),
  ];
  if (report.profilesWithoutTests.length > 0) {
    parts.push(`No tests yet for: ${report.profilesWithoutTests.join(", ")} (not certified).`);
  }
  const performance = performanceTable(report);
  if (performance) parts.push(performance);
  return parts.join("\n\n");
}

function countsText(c: ConformanceReport["profiles"][number]["core"]): string {
  const text = `${c.passed}/${c.failed}/${c.skipped}/${c.notSupported}`;
  return c.notRun > 0 ? `${text} (${c.notRun} not run)` : text;
}

function signedUs(us: number): string {
  return us > 0 ? `+${formatUs(us)}` : formatUs(us);
}

function performanceTable(report: ConformanceReport): string | null {
  const perf = report.performance;
  if (perf.status === "not-measured") return null;
  if (perf.status === "failed") return `### Performance\n\nnot measured: ${perf.error}`;
  const latency = (["p50", "p99"] as const).map((metric) => {
    const d = perf.addedLatency[metric];
    const verdict = d.verdict === "not-distinguishable" ? `not distinguishable (floor ±${formatUs(d.noiseFloorUs)})` : d.verdict;
    return [`added ${metric}`, `${signedUs(d.deltaUs)} [${signedUs(d.ci95Us.low)}, ${signedUs(d.ci95Us.high)}] over ${formatUs(d.baselineUs)}`, verdict];
  });
  const s = perf.sidecar;
  const rows = [
    ...latency,
    ["vCPU per 1000 req/s", s.vcpuPer1kRps.toFixed(3), `pod Δ ${perf.podVcpuPer1kRpsDelta >= 0 ? "+" : ""}${perf.podVcpuPer1kRpsDelta.toFixed(3)}`],
    ["memory avg / peak / idle", `${s.memoryAvgMiB.toFixed(1)} / ${s.memoryPeakMiB.toFixed(1)} / ${s.idleMemoryMiB.toFixed(1)} MiB`, perf.accounting],
    ["time to ready", s.timeToReadyMs === null ? "–" : formatDurationMs(s.timeToReadyMs), ""],
    ...perf.budgets.map((b) => [`budget ${b.budget}`, `${formatBudgetMeasure(b)} of ${b.limit} ${b.unit}`, b.result === "exceeded" ? "**EXCEEDED**" : b.result]),
  ];
  return [`### Performance (${perf.workload}; 95% CI)`, markdownTable(["figure", "value", "note"], rows)].join("\n\n");
}
