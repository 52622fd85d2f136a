// trials.csv (one row per trial) and summary.csv (one row per variant × metric), for
// spreadsheets and notebooks.
import { stringify } from "csv-stringify/sync";
import type { Results } from "./results-model.ts";

export function trialsCsv(results: Results): string {
  const rows = results.trials.map((t) => {
    const row: Record<string, string | number | boolean | null> = {
      sequence: t.sequence,
      arm: t.arm,
      pod: t.pod,
      warmup: t.warmup,
      round: t.round,
      started_at: t.startedAt,
      duration_ms: round(t.durationMs),
      target_rate_per_sec: t.load.targetRatePerSec,
      achieved_rate_per_sec: round(t.load.achievedRatePerSec),
      rate_shortfall_pct: t.load.rateShortfallPct === null ? null : round(t.load.rateShortfallPct),
      ok: t.load.ok,
      errors: Object.values(t.load.errors).reduce((a, b) => a + b, 0),
      latency_p50_us: t.latencyUs.p50,
      latency_p90_us: t.latencyUs.p90,
      latency_p99_us: t.latencyUs.p99,
      latency_p99_9_us: t.latencyUs.p99_9,
      service_p50_us: t.serviceTimeUs.p50,
      service_p99_us: t.serviceTimeUs.p99,
      pacing_error_p99_us: t.pacingErrorUs?.p99 ?? null,
      // Token streams only: unary rows keep their columns.
      ...(t.stream
        ? {
            tokens: t.stream.tokens,
            ttft_p50_us: t.stream.ttftUs.p50,
            ttft_p99_us: t.stream.ttftUs.p99,
            ttft_service_p50_us: t.stream.ttftServiceUs.p50,
            itl_p50_us: t.stream.itlUs.p50,
            itl_p99_us: t.stream.itlUs.p99,
            tokens_per_sec: round(t.stream.tokensPerSec),
            stream_tokens_per_sec_p50: t.stream.streamTokensPerSecP50 === null ? null : round(t.stream.streamTokensPerSecP50),
          }
        : {}),
    };
    for (const r of t.resources) {
      row[`${r.container}_vcpu`] = round(r.vcpu, 4);
      row[`${r.container}_vcpu_per_1k_rps`] = round(r.vcpuPer1kRps, 4);
      row[`${r.container}_memory_avg_mib`] = round(r.memoryAvgMiB, 2);
      row[`${r.container}_memory_peak_mib`] = round(r.memoryPeakMiB, 2);
    }
    return row;
  });
  // Pods differ in containers: the header is the union of all rows' columns.
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return stringify(rows, { header: true, columns, cast: { boolean: (value) => String(value) } });
}

export function summaryCsv(results: Results): string {
  const rows: Array<Record<string, string | number | null>> = [];
  const analysis = results.analysis;
  if (analysis) {
    for (const variant of analysis.variants) {
      const stream = analysis.tokenStream?.variants.find((v) => v.variant === variant.variant);
      const measures = [["latency", variant.latency], ["service_time", variant.serviceTime], ...(stream ? ([["ttft", stream.ttft], ["itl", stream.itl]] as const) : [])] as const;
      for (const [kind, metrics] of measures) {
        for (const m of Object.values(metrics)) {
          rows.push({
            variant: variant.variant,
            measure: kind,
            metric: m.metric,
            unit: m.unit,
            rounds: m.rounds,
            delta_median: round(m.deltaMedian),
            ci95_low: round(m.ci95.low),
            ci95_high: round(m.ci95.high),
            delta_median_pct: round(m.deltaMedianPercent),
            noise_floor_half_width: round(m.noiseFloorHalfWidth),
            p_mann_whitney: roundP(m.pValueMannWhitney),
            p_wilcoxon: roundP(m.pValueWilcoxon),
            verdict: m.verdict,
          });
        }
      }
    }
  }
  return stringify(rows, {
    header: true,
    columns: ["variant", "measure", "metric", "unit", "rounds", "delta_median", "ci95_low", "ci95_high", "delta_median_pct", "noise_floor_half_width", "p_mann_whitney", "p_wilcoxon", "verdict"],
  });
}

function round(value: number, digits = 2): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value;
}

function roundP(value: number): number {
  return Number(value.toPrecision(3));
}
