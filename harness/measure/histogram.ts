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

/** Latencies below this many µs are tallied per whole µs before they reach the histogram. */
const TALLIED_BELOW_US = 65_536;

/**
 * Records into a histogram through a plain array: latencies under 65.536 ms are counted per
 * whole µs and added to the histogram at flush(), each distinct value once. hdr-histogram-js's
 * recordValue takes two Math.pow and a Math.log2 per value, which a closed loop would pay per
 * request; the histogram after flush() is exactly what recording each value would have made.
 */
export class LatencyTally {
  private readonly counts = new Uint32Array(TALLIED_BELOW_US);
  private pending = 0;

  constructor(readonly histogram: LatencyHistogram) {}

  /** Same rounding and bounds as recordMs. */
  recordMs(latencyMs: number): void {
    const us = Math.round(latencyMs * 1000);
    if (us >= TALLIED_BELOW_US) {
      recordMs(this.histogram, latencyMs);
      return;
    }
    this.counts[us < 1 ? 1 : us]!++;
    this.pending++;
  }

  /** Adds what was tallied to the histogram (call before reading it). */
  flush(): LatencyHistogram {
    if (this.pending > 0) {
      for (let us = 1; us < TALLIED_BELOW_US; us++) {
        const count = this.counts[us]!;
        if (count > 0) this.histogram.recordValueWithCount(us, count);
      }
      this.counts.fill(0);
      this.pending = 0;
    }
    return this.histogram;
  }
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
