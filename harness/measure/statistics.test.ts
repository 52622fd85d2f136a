// Reference values come from SciPy 1.17.1 / NumPy 2.4.6 (Python 3.11); each block names
// the exact call. Tolerances: p-values to 1e-12 relative (both sides use IEEE doubles,
// differing only in summation order and erfc implementation).
import { describe, expect, it } from "vitest";
import { createPrng } from "./prng.ts";
import {
  bootstrapCI,
  mannWhitneyU,
  mean,
  median,
  quantile,
  standardDeviation,
  standardNormalSf,
  wilcoxonSignedRank,
} from "./statistics.ts";

function expectRelativeClose(actual: number, expected: number, relative = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * relative);
}

describe("summaries", () => {
  const x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];

  it("quantile is type 7, as numpy.quantile(x, q) (method='linear')", () => {
    // numpy.quantile([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], q)
    const expected: Array<[number, number]> = [
      [0, 1],
      [0.1, 1],
      [0.25, 2.5],
      [0.5, 4],
      [0.9, 6],
      [0.999, 8.97],
      [1, 9],
    ];
    for (const [p, value] of expected) expect(quantile(x, p)).toBeCloseTo(value, 12);
  });

  it("median, mean, sample SD match numpy", () => {
    const y = [812.5, 790.25, 845.0, 799.75, 1203.5, 788.0];
    expect(median(y)).toBe(806.125); // numpy.median(y)
    expectRelativeClose(mean(y), 873.1666666666666); // numpy.mean(y)
    expectRelativeClose(standardDeviation(y), 163.16400236163204); // numpy.std(y, ddof=1)
  });

  it("handles n = 1 and all-equal inputs", () => {
    expect(median([42])).toBe(42);
    expect(quantile([42], 0.99)).toBe(42);
    expect(mean([42])).toBe(42);
    expect(standardDeviation([7, 7, 7])).toBe(0);
    expect(() => standardDeviation([42])).toThrow(/at least 2 values/);
  });

  it("does not mutate its input", () => {
    const input = [3, 1, 2];
    median(input);
    quantile(input, 0.9);
    expect(input).toEqual([3, 1, 2]);
  });

  it("rejects empty, NaN and infinite input with a clear error", () => {
    expect(() => median([])).toThrow("median: values is empty");
    expect(() => mean([1, Number.NaN])).toThrow("mean: values[1] is NaN");
    expect(() => quantile([1, Number.POSITIVE_INFINITY], 0.5)).toThrow("values[1] is Infinity");
    expect(() => quantile([1, 2], 1.5)).toThrow("p must be in [0, 1]");
    expect(() => quantile([1, 2], Number.NaN)).toThrow("p must be in [0, 1]");
  });
});

describe("standardNormalSf", () => {
  it("matches scipy.special.ndtr(-z)", () => {
    const expected: Array<[number, number]> = [
      [0, 0.5],
      [0.5, 0.3085375387259869],
      [1, 0.15865525393145707],
      [1.959963984540054, 0.025],
      [2.5, 0.006209665325776132],
      [3, 0.0013498980316300933],
      [5, 2.866515718791933e-7],
      [8.5, 9.47953482220325e-18],
      [12, 1.776482112077653e-33],
      [-1.5, 0.9331927987311419],
      [-4, 0.9999683287581669],
    ];
    // The series / continued-fraction erfc is good to ~3e-14 relative over this range.
    for (const [z, p] of expected) expectRelativeClose(standardNormalSf(z), p, 1e-13);
  });
});

describe("bootstrapCI", () => {
  // Deterministic data that Python builds identically.
  const data = Array.from({ length: 200 }, (_, i) => ((i * 37) % 101) / 4);

  it("is deterministic for a seed and differs across seeds", () => {
    const first = bootstrapCI(data, mean, { seed: 11, resamples: 2_000 });
    expect(bootstrapCI(data, mean, { seed: 11, resamples: 2_000 })).toEqual(first);
    expect(bootstrapCI(data, mean, { seed: 12, resamples: 2_000 })).not.toEqual(first);
  });

  it("agrees with scipy.stats.bootstrap(method='percentile') up to Monte-Carlo error", () => {
    // data = [((i * 37) % 101) / 4 for i in range(200)]
    // scipy.stats.bootstrap((data,), np.mean, method="percentile", n_resamples=200_000,
    //                       rng=np.random.default_rng(1)).confidence_interval
    //   -> (11.50125, 13.52); np.mean(data) = 12.51125
    const ci = bootstrapCI(data, mean, { seed: 1 });
    expectRelativeClose(ci.estimate, 12.51125);
    const width = 13.52 - 11.50125;
    expect(Math.abs(ci.low - 11.50125)).toBeLessThan(0.05 * width);
    expect(Math.abs(ci.high - 13.52)).toBeLessThan(0.05 * width);
    // Same call with np.median -> (10.75, 14.25); medians of this data move in steps of 0.25.
    const medianCi = bootstrapCI(data, median, { seed: 1 });
    expect(medianCi.estimate).toBe(12.5);
    expect(Math.abs(medianCi.low - 10.75)).toBeLessThanOrEqual(0.25);
    expect(Math.abs(medianCi.high - 14.25)).toBeLessThanOrEqual(0.25);
  });

  it("covers the true mean about 95% of the time (fixed seeds, so not flaky)", () => {
    const prng = createPrng(2024, "coverage");
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - prng.nextFloat())) * Math.cos(2 * Math.PI * prng.nextFloat());
    let covered = 0;
    const experiments = 200;
    for (let e = 0; e < experiments; e++) {
      const sample = Array.from({ length: 40 }, () => 100 + 10 * normal());
      const ci = bootstrapCI(sample, mean, { seed: e, resamples: 1_000 });
      if (ci.low <= 100 && 100 <= ci.high) covered++;
    }
    // Percentile intervals undercover slightly at n = 40; binomial SD here is ~1.5%.
    expect(covered / experiments).toBeGreaterThan(0.88);
    expect(covered / experiments).toBeLessThanOrEqual(0.99);
  });

  it("collapses to a point for n = 1 and for all-equal values", () => {
    expect(bootstrapCI([5], median, { seed: 1, resamples: 100 })).toEqual({ estimate: 5, low: 5, high: 5 });
    expect(bootstrapCI([3, 3, 3], median, { seed: 1, resamples: 100 })).toEqual({ estimate: 3, low: 3, high: 3 });
  });

  it("rejects bad input and options", () => {
    expect(() => bootstrapCI([], median, { seed: 1 })).toThrow("bootstrapCI: values is empty");
    expect(() => bootstrapCI([1, Number.NaN], median, { seed: 1 })).toThrow("values[1] is NaN");
    expect(() => bootstrapCI([1, 2], median, { seed: 1, confidence: 95 })).toThrow("confidence must be in (0, 1)");
    expect(() => bootstrapCI([1, 2], median, { seed: 1, resamples: 0 })).toThrow("resamples must be a positive integer");
    expect(() => bootstrapCI([1, 2], () => Number.NaN, { seed: 1, resamples: 5 })).toThrow("must be finite");
    expect(() => bootstrapCI([1, 2], median, { seed: -1 })).toThrow("non-negative safe integer");
  });
});

describe("mannWhitneyU (scipy.stats.mannwhitneyu(a, b) defaults: method='auto', use_continuity=True)", () => {
  it("asymptotic with ties (both sizes > 8)", () => {
    // mannwhitneyu(a, b) -> statistic=19.0, pvalue=0.00754006269563997
    const a = [812, 790, 845, 799, 1203, 788, 802, 830, 795, 811];
    const b = [851, 842, 866, 799, 901, 848, 839, 870, 845, 1250, 856, 849];
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(19);
    expect(r.method).toBe("asymptotic");
    expect(r.z).toBeLessThan(0);
    expectRelativeClose(r.pValue, 0.00754006269563997);
  });

  it("asymptotic for small samples when there are ties", () => {
    // mannwhitneyu([1, 2, 2, 3, 5], [2, 4, 6, 6, 7, 8]) -> 4.0, 0.052477978971014166
    const r = mannWhitneyU([1, 2, 2, 3, 5], [2, 4, 6, 6, 7, 8]);
    expect(r.u).toBe(4);
    expect(r.method).toBe("asymptotic");
    expectRelativeClose(r.pValue, 0.052477978971014166);
  });

  it("asymptotic without ties when both sizes > 8", () => {
    // mannwhitneyu(list(range(1, 13)), [x + 0.5 for x in range(4, 19)]) -> 36.0, 0.009040133006019455
    const r = mannWhitneyU(
      Array.from({ length: 12 }, (_, i) => i + 1),
      Array.from({ length: 15 }, (_, i) => i + 4.5),
    );
    expect(r.u).toBe(36);
    expect(r.method).toBe("asymptotic");
    expectRelativeClose(r.pValue, 0.009040133006019455);
    // mannwhitneyu(list(range(9)), list(range(100, 109))) -> 0.0, 0.00041229480206169127
    expectRelativeClose(
      mannWhitneyU(
        Array.from({ length: 9 }, (_, i) => i),
        Array.from({ length: 9 }, (_, i) => i + 100),
      ).pValue,
      0.00041229480206169127,
    );
  });

  it("exact distribution for small samples without ties", () => {
    // mannwhitneyu([1.1, 2.3, 3.5, 7.9, 4.4], [5.0, 6.2, 8.8, 9.1, 10.3, 2.9, 11.7]) -> 5.0, 0.04797979797979798
    const r = mannWhitneyU([1.1, 2.3, 3.5, 7.9, 4.4], [5.0, 6.2, 8.8, 9.1, 10.3, 2.9, 11.7]);
    expect(r.u).toBe(5);
    expect(r.method).toBe("exact");
    expectRelativeClose(r.pValue, 0.04797979797979798);
    // mannwhitneyu([11, 14, 9, 22, 17, 8, 13, 19], [21, 25, 16, 30, 27, 24, 18, 28]) -> 6.0, 0.004662004662004662
    const r8 = mannWhitneyU([11, 14, 9, 22, 17, 8, 13, 19], [21, 25, 16, 30, 27, 24, 18, 28]);
    expect(r8.u).toBe(6);
    expect(r8.method).toBe("exact");
    expectRelativeClose(r8.pValue, 0.004662004662004662);
  });

  it("exact when only one sample is small (scipy: asymptotic only if both > 8)", () => {
    // big40 = np.round(np.random.default_rng(7).normal(100, 10, 40), 6)
    // mannwhitneyu([118.5, 121.25, 97.125], big40) -> 100.0, 0.05801798881776195
    const big40 = [
      100.012302, 102.987455, 97.258621, 91.094082, 95.453292, 90.083534, 100.601436, 113.402152, 95.077935,
      93.795251, 104.898421, 103.56887, 101.054142, 90.69532, 99.707482, 106.953032, 86.557855, 95.423842,
      80.987773, 87.104623, 81.58265, 97.649089, 87.325535, 102.712644, 101.567511, 98.130691, 74.832403,
      94.613071, 99.514991, 101.13309, 84.698642, 95.222467, 90.214809, 91.911628, 110.608986, 91.924653,
      99.674783, 108.843899, 94.163996, 98.882981,
    ];
    const r = mannWhitneyU([118.5, 121.25, 97.125], big40);
    expect(r.u).toBe(100);
    expect(r.method).toBe("exact");
    expect(r.z).toBeGreaterThan(0);
    expectRelativeClose(r.pValue, 0.05801798881776195);
  });

  it("all-equal inputs and n = 1 give p = 1", () => {
    // mannwhitneyu([5, 5, 5], [5, 5, 5, 5]) -> 6.0, 1.0
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5, 5])).toEqual({ u: 6, z: 0, pValue: 1, method: "asymptotic" });
    // mannwhitneyu([1.0], [2.0]) -> 0.0, 1.0
    expect(mannWhitneyU([1], [2])).toEqual({ u: 0, z: 0, pValue: 1, method: "exact" });
    // mannwhitneyu([3.0], [3.0]) -> 0.5, 1.0
    expect(mannWhitneyU([3], [3])).toMatchObject({ u: 0.5, pValue: 1 });
  });

  it("is symmetric in its arguments", () => {
    const a = [4.1, 5.2, 6.3, 2.2];
    const b = [7.4, 8.5, 1.1, 9.9, 10.2];
    const ab = mannWhitneyU(a, b);
    const ba = mannWhitneyU(b, a);
    expect(ab.u + ba.u).toBe(a.length * b.length);
    expect(ab.pValue).toBe(ba.pValue);
    expect(ab.z).toBe(-ba.z);
  });

  it("rejects empty and NaN input", () => {
    expect(() => mannWhitneyU([], [1])).toThrow("mannWhitneyU: a is empty");
    expect(() => mannWhitneyU([1], [2, Number.NaN])).toThrow("mannWhitneyU: b[1] is NaN");
  });
});

describe("wilcoxonSignedRank (scipy.stats.wilcoxon(d) defaults: zero_method='wilcox', correction=False, method='auto')", () => {
  it("exact null distribution without ties or zeros", () => {
    // wilcoxon([12.5, -3.25, 8.0, 15.75, 4.5, -1.0, 9.25, 22.0, 6.5, -7.75]) -> 8.0, 0.048828125
    const r = wilcoxonSignedRank([12.5, -3.25, 8.0, 15.75, 4.5, -1.0, 9.25, 22.0, 6.5, -7.75]);
    expect(r.statistic).toBe(8);
    expect(r.method).toBe("exact");
    expect(r.pValue).toBe(0.048828125);
    // rng = np.random.default_rng(7), after drawing big40 and d60 (below): d30 = np.round(rng.normal(1, 5, 30), 4);
    // wilcoxon(d30) -> 223.0, 0.8552717231214046
    const d30 = [
      -0.5224, -3.4996, 1.8203, 12.2238, -3.1586, -2.1197, 2.027, 3.4651, 0.118, -0.0297, 4.5123, 3.5995, -4.1684,
      0.6041, 1.1764, -4.2724, 2.2992, -3.2898, 5.8603, 1.9637, 1.4465, -1.9551, 0.407, -8.9887, -4.657, 2.8142,
      -9.6428, 5.233, -7.7305, 4.7837,
    ];
    const r30 = wilcoxonSignedRank(d30);
    expect(r30.statistic).toBe(223);
    expect(r30.method).toBe("exact");
    expectRelativeClose(r30.pValue, 0.8552717231214046);
  });

  it("n = 1", () => {
    // wilcoxon([3.0]) -> 0.0, 1.0
    expect(wilcoxonSignedRank([3])).toMatchObject({ statistic: 0, pValue: 1, method: "exact" });
  });

  it("exact sign-flip permutation for n <= 13 with ties or zeros", () => {
    // wilcoxon([4.0, -2.0, 0.0, 4.0, 6.0, 2.0, 0.0, -4.0, 8.0, 6.0]) -> 5.5, 0.1015625
    const r = wilcoxonSignedRank([4, -2, 0, 4, 6, 2, 0, -4, 8, 6]);
    expect(r.statistic).toBe(5.5);
    expect(r.nonZero).toBe(8);
    expect(r.method).toBe("permutation");
    expect(r.pValue).toBe(0.1015625);
    // wilcoxon([3.0, -1.0, 0.0, 5.0, 7.0]) -> 1.0, 0.25
    expect(wilcoxonSignedRank([3, -1, 0, 5, 7])).toMatchObject({ statistic: 1, pValue: 0.25, method: "permutation" });
  });

  it("normal approximation with tie correction for larger samples with ties or zeros", () => {
    // wilcoxon([5, -3, 5, 8, 2, -2, 9, 11, 5, 4, -6, 7, 3, 10, 12, -1, 6, 8, 13, 4]) -> 19.5, 0.0014009823240127004
    const ties = wilcoxonSignedRank([5, -3, 5, 8, 2, -2, 9, 11, 5, 4, -6, 7, 3, 10, 12, -1, 6, 8, 13, 4]);
    expect(ties.statistic).toBe(19.5);
    expect(ties.method).toBe("asymptotic");
    expectRelativeClose(ties.pValue, 0.0014009823240127004);
    // wilcoxon([5, 0, 5, 8, 0, -2, 9, 11, 5, 4, -6, 7, 0, 10, 12, -1]) -> 10.0, 0.01299247205086792
    const zeros = wilcoxonSignedRank([5, 0, 5, 8, 0, -2, 9, 11, 5, 4, -6, 7, 0, 10, 12, -1]);
    expect(zeros.statistic).toBe(10);
    expect(zeros.nonZero).toBe(13);
    expect(zeros.method).toBe("asymptotic");
    expectRelativeClose(zeros.pValue, 0.01299247205086792);
  });

  it("normal approximation for n > 50", () => {
    // rng = np.random.default_rng(7), after drawing big40 (above): d60 = np.round(rng.normal(2, 5, 60), 4);
    // wilcoxon(d60) -> 485.0, 0.0015482236096578542
    const d60 = [
      2.5523, 2.3189, -4.1253, 2.3807, 8.7941, -5.7357, 6.2969, 2.5968, -1.2074, 12.0021, 5.8113, -3.9964, 2.3726,
      4.8834, 1.0561, 5.4146, 1.6674, 5.3362, 9.1926, -1.3783, 3.0157, -0.3165, 2.6363, -3.936, -0.8965, 1.019,
      6.4938, 7.7261, -4.6176, -1.9732, 5.2345, -7.9621, -0.3158, 1.5136, 8.2851, 5.447, 0.3639, 0.1571, 0.749,
      9.6176, -0.1401, 0.4816, 3.7629, 1.3961, 1.0136, -3.5703, 1.9424, -0.2179, 7.8306, 5.2654, 1.8793, 5.3419,
      0.3007, 7.2606, 1.973, 4.9169, -4.4545, 3.7334, -6.441, -8.1766,
    ];
    const r = wilcoxonSignedRank(d60);
    expect(r.statistic).toBe(485);
    expect(r.method).toBe("asymptotic");
    expect(r.z).toBeGreaterThan(0);
    expectRelativeClose(r.pValue, 0.0015482236096578542);
  });

  it("all-zero differences give p = 1", () => {
    // wilcoxon([0.0] * 5) -> 0.0, 1.0
    expect(wilcoxonSignedRank([0, 0, 0, 0, 0])).toMatchObject({ statistic: 0, pValue: 1, nonZero: 0 });
    // wilcoxon([0.0] * 20) -> 0.0, nan (0/0 in the normal approximation); 1 here, documented.
    expect(wilcoxonSignedRank(new Array<number>(20).fill(0))).toMatchObject({ statistic: 0, pValue: 1, z: 0 });
  });

  it("rejects empty and NaN input", () => {
    expect(() => wilcoxonSignedRank([])).toThrow("wilcoxonSignedRank: differences is empty");
    expect(() => wilcoxonSignedRank([1, Number.NaN])).toThrow("differences[1] is NaN");
  });
});
