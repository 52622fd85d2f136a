// Latency histograms in microseconds (hdr-histogram-js), one per trial, stored encoded
// in results so any percentile can be recomputed later.
import * as hdr from "hdr-histogram-js";

export type LatencyHistogram = hdr.Histogram;

/** 1 µs resolution up to 60 s, 3 significant digits (≤ 0.1% value error). */
const HIGHEST_TRACKABLE_US = 60_000_000;

export function createLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
  });
}

/** Records a latency given in (fractional) milliseconds, as whole microseconds ≥ 1. */
export function recordMs(histogram: LatencyHistogram, latencyMs: number): void {
  const us = Math.round(latencyMs * 1000);
  histogram.recordValue(Math.min(Math.max(us, 1), HIGHEST_TRACKABLE_US));
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 32);
}

export const REPORTED_PERCENTILES = [50, 90, 99, 99.9] as const;
export type ReportedPercentile = (typeof REPORTED_PERCENTILES)[number];

export interface PercentilesUs {
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  min: number;
  max: number;
  mean: number;
  count: number;
}

export function percentileKey(p: ReportedPercentile): keyof PercentilesUs {
  return p === 99.9 ? "p99_9" : (`p${p}` as keyof PercentilesUs);
}

export function summarize(histogram: LatencyHistogram): PercentilesUs {
  const count = histogram.totalCount;
  if (count === 0) return { p50: NaN, p90: NaN, p99: NaN, p99_9: NaN, min: NaN, max: NaN, mean: NaN, count: 0 };
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p99_9: histogram.getValueAtPercentile(99.9),
    min: histogram.minNonZeroValue,
    max: histogram.maxValue,
    mean: histogram.mean,
    count,
  };
}
