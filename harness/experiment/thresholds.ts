// spec.thresholds as SLOs (k6's thresholds): after the run, each variant's limits are
// judged on the run's figures with their 95% CIs — pass when the whole CI is within the
// limit, fail when all of it is above, inconclusive when it straddles (more rounds would
// tell). The exit code and junit.xml of `run` follow from these results.
import { ciAgainstLimit } from "../measure/ci-against-limit.ts";
import { deriveSeed } from "../measure/prng.ts";
import { medianWithCi, runOverheads, type RunOverheads } from "../diff/overhead-series.ts";
import type { Results, VariantAnalysis } from "../report/results-model.ts";
import { GLOBAL_THRESHOLD_KEYS, THRESHOLD_METRICS, type ScenarioThresholds, type ThresholdMetric, type VariantThresholds } from "../scenario/scenario-schema.ts";

export interface ThresholdResult {
  variant: string;
  metric: ThresholdMetric;
  limit: number;
  unit: "ms" | "vCPU" | "MiB";
  /** The median (of paired Δs for latency and CPU); null when the variant was not measured. */
  measured: number | null;
  ci95?: { low: number; high: number };
  result: "pass" | "fail" | "inconclusive";
  /** Why, in one line: measured value, CI and limit (or why nothing was measured). Always written by judgeThresholds. */
  message?: string;
}

const UNIT: Record<ThresholdMetric, ThresholdResult["unit"]> = { addedP50Ms: "ms", addedP99Ms: "ms", cpuPer1kRps: "vCPU", memoryMiB: "MiB" };

/** Each variant's limits, maxAddedP99Ms filling in addedP99Ms where a variant sets none. */
export function variantLimits(thresholds: ScenarioThresholds): Array<{ variant: string; limits: VariantThresholds }> {
  return Object.entries(thresholds)
    .filter(([key]) => !GLOBAL_THRESHOLD_KEYS.includes(key))
    .map(([variant, limits]) => ({ variant, limits: limits as VariantThresholds }));
}

export function judgeThresholds(thresholds: ScenarioThresholds, variants: readonly string[], results: Results): ThresholdResult[] {
  const declared = new Map(variantLimits(thresholds).map(({ variant, limits }) => [variant, limits]));
  const overheads = runOverheads(results);
  const judged: ThresholdResult[] = [];
  for (const variant of variants) {
    const limits: VariantThresholds = { ...(thresholds.maxAddedP99Ms !== undefined ? { addedP99Ms: thresholds.maxAddedP99Ms } : {}), ...declared.get(variant) };
    const analysis = results.analysis?.variants.find((v) => v.variant === variant);
    for (const metric of THRESHOLD_METRICS) {
      const limit = limits[metric];
      if (limit === undefined) continue;
      const unit = UNIT[metric];
      const figure = measure(metric, variant, analysis, overheads?.series[variant], results.plan.seed);
      if (!figure) {
        const why = results.notSupported?.find((n) => n.variant === variant)?.reason ?? `the run (${results.status}) has no analysis of ${variant}`;
        judged.push({ variant, metric, limit, unit, measured: null, result: "inconclusive", message: `${variant} ${metric}: not measured (${why}); limit ${limit} ${unit}` });
        continue;
      }
      const { estimate, ci95 } = figure;
      const result = ({ within: "pass", above: "fail", straddles: "inconclusive" } as const)[ciAgainstLimit({ measured: estimate, ci95 }, limit)];
      const relation = result === "pass" ? "≤" : result === "fail" ? ">" : "straddles";
      const text = (v: number) => v.toFixed(unit === "vCPU" ? 3 : unit === "MiB" ? 1 : 3);
      judged.push({ variant, metric, limit, unit, measured: estimate, ci95, result, message: `${variant} ${metric}: ${text(estimate)} ${unit} [95% CI ${text(ci95.low)}, ${text(ci95.high)}] ${relation} limit ${limit} ${unit}: ${result}` });
    }
  }
  return judged;
}

type Figure = { estimate: number; ci95: { low: number; high: number } };

function measure(metric: ThresholdMetric, variant: string, analysis: VariantAnalysis | undefined, series: RunOverheads["series"][string] | undefined, seed: number): Figure | null {
  if (!analysis) return null;
  if (metric === "addedP50Ms" || metric === "addedP99Ms") {
    // The paired analysis's own Δ and CI, so the threshold and report.md agree.
    const m = analysis.latency[metric === "addedP50Ms" ? "p50" : "p99"];
    return m ? { estimate: m.deltaMedian / 1000, ci95: { low: m.ci95.low / 1000, high: m.ci95.high / 1000 } } : null;
  }
  const values = metric === "cpuPer1kRps" ? series?.cpuPer1kRps : series?.sidecarMemoryMiB;
  return values && values.length > 0 ? medianWithCi(values, deriveSeed(seed, `thresholds/${variant}/${metric}`)) : null;
}

/** One line for the terminal, e.g. "thresholds: 2 passed, 1 failed (envoy addedP99Ms …), 0 inconclusive". */
export function thresholdsSummary(results: readonly ThresholdResult[]): string {
  if (results.length === 0) return "thresholds: none declared (spec.thresholds)";
  const count = (r: ThresholdResult["result"]) => results.filter((t) => t.result === r);
  const failed = count("fail");
  const inconclusive = count("inconclusive");
  const names = (list: ThresholdResult[]) => (list.length > 0 ? ` (${list.map((t) => `${t.variant} ${t.metric}`).join(", ")})` : "");
  return `thresholds: ${count("pass").length} passed, ${failed.length} failed${names(failed)}, ${inconclusive.length} inconclusive${names(inconclusive)}`;
}

/** run's exit code from its thresholds: 1 when one failed, or with --strict when one is inconclusive. */
export function thresholdsExitCode(results: readonly ThresholdResult[], strict: boolean): 0 | 1 {
  return results.some((t) => t.result === "fail" || (strict && t.result === "inconclusive")) ? 1 : 0;
}
