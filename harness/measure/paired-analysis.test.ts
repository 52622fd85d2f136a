import { describe, expect, it } from "vitest";
import {
  DEFAULT_METRICS,
  LATENCY_METRICS,
  OUTLIER_RULE,
  THROUGHPUT_METRIC,
  analyzeMetric,
  analyzeVariant,
  calibrateNoiseFloor,
  calibrateNoiseFloors,
  decideVerdict,
  pairedDelta,
  seriesForMetric,
  type MetricSpec,
  type NoiseFloor,
} from "./paired-analysis.ts";
import { createPrng } from "./prng.ts";

const P50 = LATENCY_METRICS[0] as MetricSpec;

// Ten rounds; the variant adds about 50 µs.
const baseline = [1000, 1020, 980, 1010, 990, 1000, 1030, 970, 1005, 995];
const variant = [1052, 1068, 1030, 1061, 1043, 1049, 1085, 1021, 1050, 1047];

describe("metric specs", () => {
  it("cover the histogram percentiles and throughput", () => {
    expect(DEFAULT_METRICS.map((m) => m.name)).toEqual(["p50", "p90", "p99", "p99_9", "throughputPerSec"]);
    expect(THROUGHPUT_METRIC).toMatchObject({ better: "higher", verdictScale: "relative" });
  });

  it("state the outlier rule", () => {
    expect(OUTLIER_RULE).toMatch(/^No trial is dropped/);
  });
});

describe("pairedDelta", () => {
  it("takes the median of paired deltas, with both rank tests", () => {
    const delta = pairedDelta(P50, { baseline, variant }, { seed: 1 });
    // d = [52, 48, 50, 51, 53, 49, 55, 51, 45, 52]; numpy.median(d) = 51.0
    expect(delta).toMatchObject({ metric: "p50", unit: "us", rounds: 10, deltaMedian: 51 });
    // numpy.median(100 * d / b) = 5.151020408163266
    expect(delta.deltaMedianPercent).toBeCloseTo(5.151020408163266, 12);
    // scipy.stats.mannwhitneyu(b, v).pvalue = 0.0002821171837357876
    expect(delta.pValueMannWhitney).toBeCloseTo(0.0002821171837357876, 15);
    // scipy.stats.wilcoxon(d).pvalue = 0.001953125 (ties, n = 10: exact permutation, 2/1024)
    expect(delta.pValueWilcoxon).toBe(0.001953125);
    // The bootstrap CI of a median lies within the deltas' range and around the estimate.
    expect(delta.ci95.low).toBeGreaterThanOrEqual(45);
    expect(delta.ci95.low).toBeLessThanOrEqual(51);
    expect(delta.ci95.high).toBeGreaterThanOrEqual(51);
    expect(delta.ci95.high).toBeLessThanOrEqual(55);
    expect(delta.ci95Percent.low).toBeLessThanOrEqual(delta.deltaMedianPercent);
    expect(delta.ci95Percent.high).toBeGreaterThanOrEqual(delta.deltaMedianPercent);
  });

  it("is deterministic for a seed and JSON-serialisable", () => {
    const a = pairedDelta(P50, { baseline, variant }, { seed: 9, resamples: 2_000 });
    const b = pairedDelta(P50, { baseline, variant }, { seed: 9, resamples: 2_000 });
    expect(a).toEqual(b);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it("handles a single round", () => {
    const delta = pairedDelta(P50, { baseline: [1000], variant: [1010] }, { seed: 1, resamples: 100 });
    expect(delta).toMatchObject({ rounds: 1, deltaMedian: 10, ci95: { low: 10, high: 10 }, deltaMedianPercent: 1 });
    expect(delta.pValueWilcoxon).toBe(1);
    expect(delta.pValueMannWhitney).toBe(1);
  });

  it("rejects unpaired, empty and non-finite series with the metric named", () => {
    expect(() => pairedDelta(P50, { baseline: [1, 2], variant: [1] }, { seed: 1 })).toThrow(
      'paired analysis of "p50": baseline has 2 trials but variant has 1',
    );
    expect(() => pairedDelta(P50, { baseline: [], variant: [] }, { seed: 1 })).toThrow("no rounds");
    expect(() => pairedDelta(P50, { baseline: [1, Number.NaN], variant: [1, 2] }, { seed: 1 })).toThrow(
      "baseline[1] is NaN",
    );
    expect(() => pairedDelta(P50, { baseline: [0, 1], variant: [1, 2] }, { seed: 1 })).toThrow("positive, finite baseline");
    expect(() => pairedDelta(P50, { baseline: [1, 2], variant: [1, Number.NaN] }, { seed: 1 })).toThrow("variant[1] is NaN");
  });
});

describe("calibrateNoiseFloor", () => {
  it("uses the larger absolute CI bound as the half-width", () => {
    const aa = [1003, 1015, 984, 1012, 986, 1001, 1027, 975, 1003, 999];
    const floor = calibrateNoiseFloor(P50, { baseline, variant: aa }, { seed: 3 });
    expect(floor.halfWidth).toBe(Math.max(Math.abs(floor.ci95.low), Math.abs(floor.ci95.high)));
    expect(floor.halfWidthPercent).toBe(Math.max(Math.abs(floor.ci95Percent.low), Math.abs(floor.ci95Percent.high)));
    expect(floor.halfWidth).toBeGreaterThan(0);
  });
});

describe("decideVerdict", () => {
  it.each([
    [{ low: 2, high: 5 }, 1, "lower", "slower"],
    [{ low: -5, high: -2 }, 1, "lower", "faster"],
    [{ low: 2, high: 5 }, 1, "higher", "faster"],
    [{ low: -5, high: -2 }, 1, "higher", "slower"],
    [{ low: 0.5, high: 3 }, 1, "lower", "not-distinguishable"], // overlaps the floor
    [{ low: 1, high: 3 }, 1, "lower", "not-distinguishable"], // touching counts as overlap
    [{ low: -3, high: -1 }, 1, "lower", "not-distinguishable"],
    [{ low: -1, high: 2 }, 0, "lower", "not-distinguishable"], // contains 0 even with no floor
    [{ low: 0, high: 0 }, 0, "lower", "not-distinguishable"],
    [{ low: 0.1, high: 0.2 }, 0, "lower", "slower"],
  ] as const)("CI %o, h = %d, %s is better → %s", (ci, h, better, verdict) => {
    expect(decideVerdict(ci, h, better)).toBe(verdict);
  });

  it("rejects a negative or NaN half-width", () => {
    expect(() => decideVerdict({ low: 0, high: 1 }, -1, "lower")).toThrow("halfWidth must be ≥ 0");
    expect(() => decideVerdict({ low: 0, high: 1 }, Number.NaN, "lower")).toThrow("halfWidth must be ≥ 0");
  });
});

describe("A/A calibration and variant analysis on simulated trials", () => {
  // Per-trial summaries with round-level drift shared by all arms, as on a real machine.
  function simulate(rounds: number, seed: number, shiftUs: number, throughputFactor: number) {
    const prng = createPrng(seed, "simulated-trials");
    const noise = (scale: number): number => scale * (prng.nextFloat() + prng.nextFloat() + prng.nextFloat() - 1.5);
    const arms = { baseline: [] as object[], aa: [] as object[], aa2: [] as object[], variant: [] as object[] };
    for (let r = 0; r < rounds; r++) {
      const driftUs = noise(200);
      const trial = (extraUs: number, factor: number): object => ({
        p50: 1_000 + driftUs + extraUs + noise(20),
        p90: 1_500 + driftUs + extraUs + noise(40),
        p99: 3_000 + driftUs + extraUs + noise(150),
        p99_9: 6_000 + driftUs + extraUs + noise(600),
        throughputPerSec: factor * (950 - driftUs / 10 + noise(10)),
      });
      arms.baseline.push(trial(0, 1));
      arms.aa.push(trial(0, 1));
      arms.aa2.push(trial(0, 1));
      arms.variant.push(trial(shiftUs, throughputFactor));
    }
    return arms;
  }

  it("reports a clear shift as slower and pure noise as not distinguishable", () => {
    const arms = simulate(20, 42, 400, 0.8);
    const floors = calibrateNoiseFloors(DEFAULT_METRICS, arms.baseline, arms.aa, { seed: 42 });
    const variant = analyzeVariant(DEFAULT_METRICS, arms.baseline, arms.variant, floors, { seed: 42 });
    // A second, independent A/A arm must stay inside the floor the first one set.
    const secondAa = analyzeVariant(DEFAULT_METRICS, arms.baseline, arms.aa2, floors, { seed: 42 });
    expect(variant["p50"]?.verdict).toBe("slower");
    expect(variant["p90"]?.verdict).toBe("slower");
    expect(variant["p50"]?.deltaMedian).toBeGreaterThan(350);
    expect(variant["throughputPerSec"]).toMatchObject({ verdict: "slower", verdictScale: "relative" });
    expect(variant["throughputPerSec"]?.deltaMedianPercent).toBeCloseTo(-20, 0);
    for (const metric of DEFAULT_METRICS) expect(secondAa[metric.name]?.verdict).toBe("not-distinguishable");
  });

  it("calls a shift smaller than the noise not distinguishable", () => {
    const arms = simulate(20, 7, 2, 1);
    const floors = calibrateNoiseFloors(DEFAULT_METRICS, arms.baseline, arms.aa, { seed: 7 });
    const variant = analyzeVariant(DEFAULT_METRICS, arms.baseline, arms.variant, floors, { seed: 7 });
    expect(variant["p99_9"]?.verdict).toBe("not-distinguishable");
    expect(variant["p99_9"]?.noiseFloorHalfWidth).toBe(floors["p99_9"]?.halfWidth);
  });

  it("does not depend on which other metrics are analysed", () => {
    const arms = simulate(12, 5, 100, 1);
    const all = calibrateNoiseFloors(DEFAULT_METRICS, arms.baseline, arms.aa, { seed: 5, resamples: 1_000 });
    const one = calibrateNoiseFloors([P50], arms.baseline, arms.aa, { seed: 5, resamples: 1_000 });
    expect(one["p50"]).toEqual(all["p50"]);
  });

  it("refuses a missing or mismatched floor and a missing metric", () => {
    const arms = simulate(5, 1, 0, 1);
    const floors = calibrateNoiseFloors([P50], arms.baseline, arms.aa, { seed: 1, resamples: 100 });
    expect(() => analyzeVariant(DEFAULT_METRICS, arms.baseline, arms.variant, floors, { seed: 1 })).toThrow(
      'no A/A noise floor for "p90"',
    );
    const series = seriesForMetric(arms.baseline, arms.variant, "p90");
    expect(() => analyzeMetric(LATENCY_METRICS[1] as MetricSpec, series, floors["p50"] as NoiseFloor, { seed: 1 })).toThrow(
      'noise floor is for "p50" but the metric is "p90"',
    );
    expect(() => seriesForMetric([{ p50: 1 }], [{ p90: 1 }], "p50")).toThrow('variant trial 0 has no numeric "p50"');
  });
});
