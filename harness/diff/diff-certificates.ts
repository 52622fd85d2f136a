// diff of two certificates (conformance.json) of one sidecar: a test that passed and now
// fails is a regression; a test that no longer gets a verdict of its own is reported;
// the performance figures are compared like two runs — from the benchmarks' own
// results.json when both are beside the certificates, else from the figures and their CIs.
import type { ConformanceReport } from "../conformance/conformance-report.ts";
import type { LatencyDelta, PerformanceFigures } from "../conformance/performance.ts";
import type { Results } from "../report/results-model.ts";
import { MIN_ROUNDS_TO_DECIDE, combinedFloor, intervalChange, judgeChange, type ChangeEstimate } from "./change-estimate.ts";
import { firstDifference, short } from "./comparability.ts";
import type { DiffReport, Incomparability, MetricChange, PerformanceStatusChange, TestChange } from "./diff-model.ts";
import { diffRuns, tooFewRounds } from "./diff-results.ts";
import { METRIC_INFO, isLatencyMetric, type OverheadMetric } from "./overhead-series.ts";
import { toleranceFor, type Tolerance } from "./tolerance.ts";

export interface CertificateInput {
  report: ConformanceReport;
  /** The certificate's performance/results.json, when it is beside it. */
  performanceResults: Results | null;
}

export type CertificatesDiff = Pick<DiffReport, "incomparable" | "metrics" | "warnings" | "performanceStatus"> & { tests: NonNullable<DiffReport["tests"]> };

export function diffCertificates(base: CertificateInput, head: CertificateInput, tolerance: Tolerance): CertificatesDiff {
  const incomparable: Incomparability[] = [];
  const warnings: string[] = [];
  const b = base.report;
  const h = head.report;
  const differ = (field: string, x: unknown, y: unknown) => {
    const found = firstDifference(x, y, field);
    if (found) incomparable.push({ field: found.path, message: `${found.path} differs: base ${JSON.stringify(found.base)}, head ${JSON.stringify(found.head)}` });
  };
  differ("implementation.name", b.implementation.name, h.implementation.name);
  differ("runtime", b.runtime, h.runtime);
  differ("primary.name", b.primary.name, h.primary.name);
  if (b.implementation.manifest.sha256 !== h.implementation.manifest.sha256) {
    warnings.push(`implementation.manifest.sha256 differs (base ${short(b.implementation.manifest.sha256)}, head ${short(h.implementation.manifest.sha256)}; version ${b.implementation.version ?? "?"} → ${h.implementation.version ?? "?"})`);
  }
  if (JSON.stringify(b.suite) !== JSON.stringify(h.suite)) warnings.push(`suite differs: base ${JSON.stringify(b.suite)}, head ${JSON.stringify(h.suite)}: tests may have been added or removed`);
  const judgedBy = (report: ConformanceReport) => JSON.stringify({ thresholds: report.policy.thresholds, suiteConfig: report.policy.suiteConfig });
  if (judgedBy(b) !== judgedBy(h)) warnings.push(`policy differs (base ${b.policy.name}, head ${h.policy.name}): verdicts were judged by different thresholds or suite settings`);
  for (const [which, report] of [["base", b], ["head", h]] as const) if (report.status !== "complete") warnings.push(`the ${which} certificate is ${report.status}`);

  const tests = testChanges(b, h);
  let metrics: MetricChange[] = [];
  const bp = b.performance;
  const hp = h.performance;
  if (bp.status === "measured" && hp.status === "measured") {
    differ("performance.workload", bp.workload, hp.workload);
    if (incomparable.length === 0) {
      if (base.performanceResults && head.performanceResults) {
        const runs = diffRuns(base.performanceResults, head.performanceResults, tolerance);
        incomparable.push(...runs.incomparable.map((i) => ({ field: `performance.${i.field}`, message: `performance: ${i.message}` })));
        warnings.push(...runs.warnings.map((w) => `performance: ${w}`));
        metrics = runs.metrics;
      } else {
        warnings.push("performance: the benchmarks' results.json are not beside both certificates; compared from the certificates' figures (CI of the change: the conservative interval sum; CPU and memory without a CI)");
        metrics = figureChanges(h.implementation.name, bp, hp, tolerance);
        if (Math.min(bp.rounds, hp.rounds) < MIN_ROUNDS_TO_DECIDE) warnings.push(`performance: ${tooFewRounds(bp.rounds, hp.rounds)}`);
      }
    }
  }
  let performanceStatus: PerformanceStatusChange | undefined;
  if (bp.status !== hp.status) {
    if (bp.status === "measured" && hp.status === "failed") {
      performanceStatus = { base: bp.status, head: hp.status, regression: true, message: `the head's benchmark failed (${hp.error}) where the base's measured: a regression (what finished is in the head's ${hp.resultsDir}/)` };
    } else {
      const message = `performance: base ${bp.status}, head ${hp.status}: not compared`;
      performanceStatus = { base: bp.status, head: hp.status, regression: false, message };
      warnings.push(message);
    }
  }
  return { incomparable, warnings, metrics, tests, ...(performanceStatus ? { performanceStatus } : {}) };
}

function testChanges(base: ConformanceReport, head: ConformanceReport): NonNullable<DiffReport["tests"]> {
  const verdicts = (report: ConformanceReport) => new Map(report.profiles.flatMap((p) => p.tests.map((t) => [t.id, t] as const)));
  const before = verdicts(base);
  const after = verdicts(head);
  const changes: TestChange[] = [];
  let unchanged = 0;
  for (const id of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const was = before.get(id)?.verdict ?? "absent";
    const now = after.get(id)?.verdict ?? "absent";
    const level = (after.get(id) ?? before.get(id))!.level;
    if (was === now) {
      unchanged++;
      continue;
    }
    const decided = (v: string) => v === "passed" || v === "failed";
    const change: TestChange["change"] =
      was === "passed" && now === "failed"
        ? "regression"
        : was === "failed" && now === "passed"
          ? "fixed"
          : was === "absent"
            ? "new"
            : decided(was) && !decided(now)
              ? "not-run"
              : "changed";
    changes.push({ id, level, base: was, head: now, change });
  }
  return { changes, unchanged, baseResult: base.result, headResult: head.result };
}

/** The certificate's own figures: latency with its CI and A/A floor; CPU and memory as points. */
function figureChanges(variant: string, base: PerformanceFigures, head: PerformanceFigures, tolerance: Tolerance): MetricChange[] {
  const latency = (d: LatencyDelta) => ({ estimate: d.deltaUs, ci95: d.ci95Us });
  const rows: Array<[OverheadMetric, ChangeEstimate, number, number]> = [
    ["latencyP50", intervalChange(latency(base.addedLatency.p50), latency(head.addedLatency.p50)), base.addedLatency.p50.noiseFloorUs, head.addedLatency.p50.noiseFloorUs],
    ["latencyP99", intervalChange(latency(base.addedLatency.p99), latency(head.addedLatency.p99)), base.addedLatency.p99.noiseFloorUs, head.addedLatency.p99.noiseFloorUs],
    ["cpuPer1kRps", intervalChange({ estimate: base.podVcpuPer1kRpsDelta }, { estimate: head.podVcpuPer1kRpsDelta }), 0, 0],
    ["sidecarMemoryMiB", intervalChange({ estimate: base.sidecar.memoryAvgMiB }, { estimate: head.sidecar.memoryAvgMiB }), 0, 0],
  ];
  return rows.map(([metric, estimate, baseFloor, headFloor]) => {
    const info = METRIC_INFO[metric];
    const toleranceValue = toleranceFor(metric, estimate.base, tolerance);
    const latency = isLatencyMetric(metric);
    const floor = latency ? combinedFloor(baseFloor, headFloor) : 0;
    const judged = judgeChange(estimate.ci95, floor, toleranceValue);
    return { variant, metric, label: info.label, unit: info.unit, gating: info.gating, ...estimate, baseFloor, headFloor, floor, floorBasis: latency ? ("A/A" as const) : ("none" as const), tolerance: toleranceValue, verdict: Math.min(base.rounds, head.rounds) < MIN_ROUNDS_TO_DECIDE ? "undecided" : judged.verdict };
  });
}
