// The figures of an open-loop run that a resource verdict shows beside its own: what was
// asked, what was carried, what failed, and how slow it was.
import type { OpenLoopSummary } from "../../harness/load/open-loop.ts";
import { roundTo } from "./memory-series.ts";

export function loadEvidence(summary: OpenLoopSummary): Record<string, unknown> {
  return {
    targetRatePerSec: summary.targetRatePerSec,
    achievedRatePerSec: roundTo(summary.achievedRatePerSec, 1),
    scheduled: summary.scheduled,
    ok: summary.ok,
    errors: summary.errors,
    latencyP50Us: summary.latencyUs.p50,
    latencyP99Us: summary.latencyUs.p99,
  };
}
