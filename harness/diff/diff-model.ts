// The outcome of `sidecar-bench diff`: a value the Markdown, JSON and JUnit writers
// render, and whose exitCode is the CI gate's answer.
import type { ChangeEstimate, ChangeVerdict } from "./change-estimate.ts";
import type { OverheadMetric } from "./overhead-series.ts";

export const DIFF_KIND = "sidecar-bench/diff";

export interface RunRef {
  file: string;
  runId: string;
  /** What the input is: a run's results or a certificate. */
  kind: "results" | "certificate";
  date: string | null;
}

export interface MetricChange extends ChangeEstimate {
  variant: string;
  metric: OverheadMetric;
  label: string;
  unit: "us" | "vCPU" | "MiB";
  /** Whether it decides the exit code (service time is shown only). */
  gating: boolean;
  /** Each run's A/A half-width (0 for CPU and memory, which have no A/A figure). */
  baseFloor: number;
  headFloor: number;
  /** The change's noise floor: √(baseFloor² + headFloor²) for latency; for CPU the baseline pod's drift between the runs; none for memory. */
  floor: number;
  floorBasis: "A/A" | "baseline drift" | "none";
  tolerance: number;
  verdict: ChangeVerdict;
}

/** A certificate's test whose verdict changed (unchanged tests are only counted). */
export interface TestChange {
  id: string;
  level: string;
  base: string;
  head: string;
  /**
   * regression: passed → failed; fixed: failed → passed; not-run: it passed or failed
   * before and has no verdict of its own now (skipped, not-supported, not-run, or gone
   * from the certificate); new: not in the base certificate; changed: any other move.
   */
  change: "regression" | "fixed" | "not-run" | "new" | "changed";
}

/**
 * Certificates: the benchmark's status moved. measured → failed is a regression (the new
 * sidecar's benchmark broke where the old one's measured, e.g. it crashed under load);
 * any other move (measured → not-measured after --no-performance, failed → measured) is not.
 */
export interface PerformanceStatusChange {
  base: "measured" | "failed" | "not-measured";
  head: "measured" | "failed" | "not-measured";
  regression: boolean;
  message: string;
}

export interface Incomparability {
  /** The field that differs, as a path into the input, e.g. scenario.spec.workload.load.ratePerSec. */
  field: string;
  message: string;
}

export interface DiffReport {
  kind: typeof DIFF_KIND;
  base: RunRef;
  head: RunRef;
  tolerance: string;
  outcome: "regression" | "no-regression" | "incomparable";
  /** 0 no regression, 1 regression, 2 incomparable. */
  exitCode: 0 | 1 | 2;
  incomparable: Incomparability[];
  metrics: MetricChange[];
  /** Certificates only. */
  tests?: { changes: TestChange[]; unchanged: number; baseResult: string; headResult: string };
  /** Certificates only, when the benchmark's status differs between them. */
  performanceStatus?: PerformanceStatusChange;
  warnings: string[];
}

export function conclude(parts: Omit<DiffReport, "kind" | "outcome" | "exitCode">): DiffReport {
  const regressed =
    parts.metrics.some((m) => m.gating && m.verdict === "regression") || (parts.tests?.changes.some((t) => t.change === "regression") ?? false) || parts.performanceStatus?.regression === true;
  const outcome = parts.incomparable.length > 0 ? "incomparable" : regressed ? "regression" : "no-regression";
  return { kind: DIFF_KIND, ...parts, outcome, exitCode: outcome === "incomparable" ? 2 : outcome === "regression" ? 1 : 0 };
}
