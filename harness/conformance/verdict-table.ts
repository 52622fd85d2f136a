// What `certify` prints: one progress line per test while it runs, then a table of every
// verdict, the profile results, the policy they were judged by, the manifest's claims
// against what was measured, and the performance figures.
import { formatUs, markdownTable } from "../report/markdown-writer.ts";
import type { ClaimReport } from "./claims.ts";
import type { ConformanceReport } from "./conformance-report.ts";
import type { LatencyDelta } from "./performance.ts";
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
    `### Conformance of ${report.implementation.name}${report.implementation.version ? ` ${report.implementation.version}` : ""} (suite ${report.suite.version}, ${report.runtime} runtime, primary ${report.primary.name}${report.primary.version ? ` ${report.primary.version}` : ""})`,
    markdownTable(["test", "level", "verdict", "duration", "message"], rows),
    markdownTable(["profile", "result", "core (passed/failed/skipped/not-supported)", "extended"], profileRows),
  ];
  if (report.notApplicable.length > 0) {
    parts.push(`Not applicable to this sidecar or primary (not run): ${report.notApplicable.map((n) => `${n.id} (${n.reason})`).join("; ")}.`);
  }
  if (report.profilesWithoutTests.length > 0) {
    parts.push(`No tests yet for: ${report.profilesWithoutTests.join(", ")} (not certified).`);
  }
  const policy = report.policy;
  parts.push(
    `Verdicts judged by ${policy.source === "file" ? `the policy ${policy.name} (${policy.file}, sha256 ${policy.sha256?.slice(0, 12)})` : "the suite's default policy"}; ` +
      `suite config v${policy.suiteConfig.version}, ${policy.suiteConfig.values.triesPerExpectation} tries per expectation.`,
  );
  const claims = claimsTable(report.claims);
  if (claims) parts.push(claims);
  const performance = performanceTable(report);
  if (performance) parts.push(performance);
  return parts.join("\n\n");
}

/** A figure at the precision it is measured to. */
function figure(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function claimsTable(claims: readonly ClaimReport[]): string | null {
  if (claims.length === 0) return null;
  const rows = claims.map((c) => [
    c.budget,
    `${c.claimed} ${c.unit}`,
    c.measured === null ? "–" : `${figure(c.measured)}${c.ci95 ? ` [${figure(c.ci95.low)}, ${figure(c.ci95.high)}]` : ""} ${c.unit}`,
    c.source ?? "–",
    c.result === "claim exceeded" ? "**claim exceeded**" : c.result,
  ]);
  return ["### The manifest's claims (budgets; they never change a verdict)", markdownTable(["budget", "claimed", "measured", "by", "claim"], rows)].join("\n\n");
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
  if (perf.status === "not-measured") return perf.reason === "--no-performance" ? null : `### Performance\n\nnot measured: ${perf.reason}`;
  if (perf.status === "failed") return `### Performance\n\nnot measured: ${perf.error}`;
  const row = (label: string, d: LatencyDelta) => {
    const verdict = d.verdict === "not-distinguishable" ? `not distinguishable (floor ±${formatUs(d.noiseFloorUs)})` : d.verdict;
    return [label, `${signedUs(d.deltaUs)} [${signedUs(d.ci95Us.low)}, ${signedUs(d.ci95Us.high)}] over ${formatUs(d.baselineUs)}`, verdict];
  };
  const atRate = perf.sweep ? ` at ${perf.sweep.ratesPerSec[0]} req/s` : "";
  const latency = (["p50", "p99"] as const).map((metric) => row(`added ${metric}${atRate}`, perf.addedLatency[metric]));
  const t = perf.perToken;
  const perToken = t
    ? [row("added TTFT p50", t.ttftP50), row("added TTFT p99", t.ttftP99), row("added ITL p50", t.itlP50), row("added ITL p99", t.itlP99)]
    : [];
  const knees = (perf.sweep?.knees ?? []).map((k) => [`knee of ${k.arm}`, k.kneeRatePerSec === null ? "none" : `${k.kneeRatePerSec} req/s`, k.reason]);
  const s = perf.sidecar;
  const rows = [
    ...latency,
    ...perToken,
    ...knees,
    ["vCPU per 1000 req/s", s.vcpuPer1kRps.toFixed(3), `pod Δ ${perf.podVcpuPer1kRpsDelta >= 0 ? "+" : ""}${perf.podVcpuPer1kRpsDelta.toFixed(3)}`],
    ["memory avg / peak / idle", `${s.memoryAvgMiB.toFixed(1)} / ${s.memoryPeakMiB.toFixed(1)} / ${s.idleMemoryMiB.toFixed(1)} MiB`, perf.accounting],
    ["time to ready", s.timeToReadyMs === null ? "–" : formatDurationMs(s.timeToReadyMs), ""],
  ];
  return [`### Performance (${perf.workload}; 95% CI)`, markdownTable(["figure", "value", "note"], rows)].join("\n\n");
}
