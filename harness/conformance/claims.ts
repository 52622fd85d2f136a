// A sidecar manifest's `budgets` are claims: the certificate reports each against what
// the certification measured — "claim holds", "claim exceeded", or for latency, whose
// figure is a confidence interval, "inconclusive" when the CI straddles the claim. They
// never change a verdict: the certifier's policy decides those.
import type { SidecarManifest } from "../scenario/index.ts";
import type { BudgetName } from "./conformance-test.ts";
import type { PerformanceSection } from "./performance.ts";
import type { VerdictRecord } from "./verdict-record.ts";
import { ciAgainstLimit } from "../measure/ci-against-limit.ts";

export type ClaimResult = "claim holds" | "claim exceeded" | "inconclusive" | "not measured";

export interface ClaimReport {
  budget: BudgetName;
  claimed: number;
  unit: string;
  /** The figure judged; for latency the median added latency over the benchmark's rounds. */
  measured: number | null;
  /** Latency only: the 95% CI of the added latency. */
  ci95?: { low: number; high: number };
  /** The check that measured it, or "performance" (certify's benchmark); null when nothing did. */
  source: string | null;
  result: ClaimResult;
  /** Why a claim was not measured. */
  note?: string;
}

/** Every budget a manifest may claim, in the order the certificate lists them. */
const BUDGETS: ReadonlyArray<{ budget: BudgetName; unit: string }> = [
  { budget: "idleMemoryMiB", unit: "MiB" },
  { budget: "cpuPer1kRps", unit: "vCPU per 1000 req/s" },
  { budget: "timeToReadyMs", unit: "ms" },
  { budget: "addedP50Ms", unit: "ms" },
  { budget: "addedP99Ms", unit: "ms" },
];

interface Figure {
  measured: number;
  ci95?: { low: number; high: number };
  source: string;
}

/** What the benchmark measured for a budget, if it ran. */
function performanceFigure(budget: BudgetName, performance: PerformanceSection): Figure | null {
  if (performance.status !== "measured") return null;
  const source = "performance";
  const { sidecar, addedLatency } = performance;
  switch (budget) {
    case "idleMemoryMiB":
      return { measured: sidecar.idleMemoryMiB, source };
    case "cpuPer1kRps":
      return { measured: sidecar.vcpuPer1kRps, source };
    case "timeToReadyMs":
      return sidecar.timeToReadyMs === null ? null : { measured: sidecar.timeToReadyMs, source };
    case "addedP50Ms":
    case "addedP99Ms": {
      const delta = addedLatency[budget === "addedP50Ms" ? "p50" : "p99"];
      return { measured: delta.deltaUs / 1000, ci95: { low: delta.ci95Us.low / 1000, high: delta.ci95Us.high / 1000 }, source };
    }
  }
}

const CLAIM_RESULT = { within: "claim holds", above: "claim exceeded", straddles: "inconclusive" } as const;

function judged(claimed: number, figure: Figure): ClaimResult {
  return CLAIM_RESULT[ciAgainstLimit(figure, claimed)];
}

/**
 * Each claimed budget against the certification's figure for it: a check's own
 * measurement first (passed or failed, the figure stands), else the benchmark's.
 */
export function judgeClaims(sidecar: SidecarManifest, records: readonly VerdictRecord[], performance: PerformanceSection): ClaimReport[] {
  const budgets = sidecar.spec.budgets ?? {};
  const claims: ClaimReport[] = [];
  for (const { budget, unit } of BUDGETS) {
    const claimed = budgets[budget];
    if (claimed === undefined) continue;
    const record = records.find((r) => r.measured?.[budget] !== undefined);
    const figure: Figure | null = record ? { measured: record.measured![budget]!, source: record.id } : performanceFigure(budget, performance);
    if (figure === null) {
      const why = performance.status === "not-measured" ? performance.reason : performance.status === "failed" ? performance.error : "the benchmark has no such figure";
      claims.push({ budget, claimed, unit, measured: null, source: null, result: "not measured", note: `no check measured it, and the benchmark did not: ${why}` });
      continue;
    }
    claims.push({ budget, claimed, unit, measured: figure.measured, ...(figure.ci95 ? { ci95: figure.ci95 } : {}), source: figure.source, result: judged(claimed, figure) });
  }
  return claims;
}
