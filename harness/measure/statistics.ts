// Pure statistics on plain number arrays: summaries, a seeded percentile bootstrap, and
// the two rank tests the reports quote. The tests follow SciPy's definitions (named per
// function) so that a reader can recompute any reported number with SciPy.
//
// Every function rejects empty input and non-finite values (NaN, ±Infinity) with a
// RangeError naming the function and index: a NaN percentile means a broken trial, and
// silently propagating it would turn a report into nonsense.
import { createPrng, type Seed } from "./prng.ts";

function assertSample(values: readonly number[], fn: string, name = "values"): void {
  if (values.length === 0) {
    throw new RangeError(`${fn}: ${name} is empty; at least one observation is needed`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: ${name}[${i}] is ${String(v)}; every observation must be a finite number`);
    }
  }
}

function sortedCopy(values: readonly number[]): number[] {
  return values.slice().sort((x, y) => x - y);
}

/** Type-7 quantile of already sorted, validated values. */
function quantileSorted(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const low = sorted[lo] as number;
  if (lo === h) return low;
  const high = sorted[lo + 1] as number;
  return low + (h - lo) * (high - low);
}

/**
 * Sample quantile, type 7 of Hyndman & Fan: linear interpolation between order
 * statistics at (n − 1)·p — the default of R's quantile() and numpy.quantile().
 */
export function quantile(values: readonly number[], p: number): number {
  assertSample(values, "quantile");
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`quantile: p must be in [0, 1]; got ${String(p)}`);
  }
  return quantileSorted(sortedCopy(values), p);
}

export function median(values: readonly number[]): number {
  assertSample(values, "median");
  return quantileSorted(sortedCopy(values), 0.5);
}

export function mean(values: readonly number[]): number {
  assertSample(values, "mean");
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n − 1 denominator, like R's sd() and numpy's ddof=1). */
export function standardDeviation(values: readonly number[]): number {
  assertSample(values, "standardDeviation");
  if (values.length < 2) {
    throw new RangeError("standardDeviation: needs at least 2 values (sample SD divides by n − 1); got 1");
  }
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

// ---------------------------------------------------------------------------------
// Bootstrap

export interface BootstrapOptions {
  /** Number of resamples; 10 000 keeps the Monte-Carlo error of a 95% bound small. */
  readonly resamples?: number;
  /** Two-sided coverage, in (0, 1). */
  readonly confidence?: number;
  /** Required: a bootstrap without a recorded seed could not be reproduced. */
  readonly seed: Seed;
}

export interface BootstrapEstimate {
  /** The statistic on the original sample. */
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/**
 * Percentile bootstrap: resample `values` with replacement `resamples` times, apply
 * `statistic` to each resample, and take the type-7 quantiles (1 ∓ confidence)/2 of
 * those results (as scipy.stats.bootstrap(method="percentile") does). The resampling
 * stream is the "bootstrap" sub-stream of `seed`, so equal inputs give equal intervals.
 */
export function bootstrapCI(
  values: readonly number[],
  statistic: (sample: readonly number[]) => number,
  options: BootstrapOptions,
): BootstrapEstimate {
  assertSample(values, "bootstrapCI");
  const resamples = options.resamples ?? 10_000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`bootstrapCI: resamples must be a positive integer; got ${String(resamples)}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`bootstrapCI: confidence must be in (0, 1); got ${String(confidence)}`);
  }
  const estimate = statistic(values);
  const prng = createPrng(options.seed, "bootstrap");
  const n = values.length;
  const sample = new Array<number>(n);
  const results = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[prng.nextInt(n)] as number;
    const s = statistic(sample);
    if (!Number.isFinite(s)) {
      throw new RangeError(`bootstrapCI: the statistic returned ${String(s)} on resample ${r}; it must be finite`);
    }
    results[r] = s;
  }
  results.sort((x, y) => x - y);
  const alpha = 1 - confidence;
  return {
    estimate,
    low: quantileSorted(results, alpha / 2),
    high: quantileSorted(results, 1 - alpha / 2),
  };
}

// ---------------------------------------------------------------------------------
// Normal distribution

/** erfc(x) for x ≥ 0 to about 1e-15 relative: series below 2, continued fraction above. */
function erfcNonNegative(x: number): number {
  if (x < 2) {
    // erf(x) = 2x/√π · e^(−x²) · Σ (2x²)^k / (1·3·…·(2k+1)): positive terms, no cancellation.
    const twoXSquared = 2 * x * x;
    let term = 1;
    let sum = 1;
    for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
      term *= twoXSquared / (2 * k + 1);
      sum += term;
    }
    return 1 - ((2 * x) / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // Laplace's continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
  // evaluated with the modified Lentz algorithm.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** P(Z > z) for a standard normal Z (scipy.special.ndtr(−z)). */
export function standardNormalSf(z: number): number {
  if (Number.isNaN(z)) throw new RangeError("standardNormalSf: z is NaN");
  if (!Number.isFinite(z)) return z > 0 ? 0 : 1;
  const half = 0.5 * erfcNonNegative(Math.abs(z) / Math.SQRT2);
  return z >= 0 ? half : 1 - half;
}

/** Two-sided normal p-value 2·P(Z > |z|), capped at 1. */
function twoSidedNormalP(z: number): number {
  return Math.min(1, 2 * standardNormalSf(Math.abs(z)));
}

// ---------------------------------------------------------------------------------
// Ranks

interface Ranking {
  /** Average ranks (1-based), aligned with the input. */
  readonly ranks: number[];
  /** Size of every group of equal values (1 for untied values). */
  readonly tieGroups: number[];
}

function rankAverage(values: readonly number[]): Ranking {
  const order = values.map((_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
  const ranks = new Array<number>(values.length);
  const tieGroups: number[] = [];
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && values[order[end] as number] === values[order[start] as number]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = averageRank;
    tieGroups.push(end - start);
    start = end;
  }
  return { ranks, tieGroups };
}

function tieTerm(tieGroups: readonly number[]): number {
  let sum = 0;
  for (const t of tieGroups) sum += t ** 3 - t;
  return sum;
}

// ---------------------------------------------------------------------------------
// Mann-Whitney U

export interface MannWhitneyResult {
  /** U of the first sample, a (scipy's `statistic`): pairs (a_i, b_j) with a_i > b_j, ties counting ½. */
  readonly u: number;
  /**
   * Standardised U of `a`, with tie and continuity correction: sign(U − μ)·max(|U − μ| − ½, 0)/σ.
   * Positive when `a` tends to be larger. 0 when σ = 0 (all values equal).
   */
  readonly z: number;
  /** Two-sided p-value. */
  readonly pValue: number;
  /** Which null distribution gave the p-value (scipy's method="auto" rule). */
  readonly method: "exact" | "asymptotic";
}

/**
 * Counts of the Mann-Whitney U null distribution for sizes m and n, for U = 0…maxU: the
 * coefficients of the Gaussian binomial [m+n choose m]_q = Π_{i=1..m} (1 − q^{n+i})/(1 − q^i).
 * BigInt keeps the counts exact for any size; m is the smaller size (≤ 8 in practice).
 */
function mannWhitneyCounts(m: number, n: number, maxU: number): bigint[] {
  const counts = new Array<bigint>(maxU + 1).fill(0n);
  counts[0] = 1n;
  for (let i = 1; i <= m; i++) {
    // Divide by (1 − q^i): a running sum with stride i.
    for (let j = i; j <= maxU; j++) counts[j] = (counts[j] as bigint) + (counts[j - i] as bigint);
    // Multiply by (1 − q^(n+i)); descending so that every read sees the undivided value.
    for (let j = maxU; j >= n + i; j--) counts[j] = (counts[j] as bigint) - (counts[j - n - i] as bigint);
  }
  return counts;
}

function binomial(n: number, k: number): bigint {
  let result = 1n;
  for (let i = 1; i <= k; i++) result = (result * BigInt(n - k + i)) / BigInt(i);
  return result;
}

/** P(U ≤ k) under the null, for untied samples of sizes m and n. */
function mannWhitneyExactCdf(m: number, n: number, k: number): number {
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const counts = mannWhitneyCounts(small, large, k);
  let cumulative = 0n;
  for (const c of counts) cumulative += c;
  return Number(cumulative) / Number(binomial(small + large, small));
}

/**
 * Two-sided Mann-Whitney U test (Wilcoxon rank-sum) of two independent samples. Matches
 * scipy.stats.mannwhitneyu(a, b) with its defaults (use_continuity=True,
 * alternative="two-sided", method="auto"): the exact null distribution when either
 * sample has at most 8 values and there are no ties; otherwise the normal approximation
 * with tie correction and continuity correction.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  assertSample(a, "mannWhitneyU", "a");
  assertSample(b, "mannWhitneyU", "b");
  const n1 = a.length;
  const n2 = b.length;
  const { ranks, tieGroups } = rankAverage([...a, ...b]);
  let rankSumA = 0;
  for (let i = 0; i < n1; i++) rankSumA += ranks[i] as number;
  const u1 = rankSumA - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const uMax = Math.max(u1, u2);

  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm(tieGroups) / (n * (n - 1))));
  const distanceFromMu = Math.max(Math.abs(u1 - mu) - 0.5, 0);
  const z = sigma === 0 || distanceFromMu === 0 ? 0 : (Math.sign(u1 - mu) * distanceFromMu) / sigma;

  const hasTies = tieGroups.some((t) => t > 1);
  if ((n1 <= 8 || n2 <= 8) && !hasTies) {
    // By symmetry, P(U ≥ uMax) = P(U ≤ n1·n2 − uMax).
    const pValue = Math.min(1, 2 * mannWhitneyExactCdf(n1, n2, n1 * n2 - uMax));
    return { u: u1, z, pValue, method: "exact" };
  }
  // σ = 0 only when every value is equal: no evidence of any shift.
  const pValue = sigma === 0 ? 1 : twoSidedNormalP((uMax - mu - 0.5) / sigma);
  return { u: u1, z, pValue, method: "asymptotic" };
}

// ---------------------------------------------------------------------------------
// Wilcoxon signed-rank

export interface WilcoxonResult {
  /** min(R+, R−), scipy's two-sided `statistic`. */
  readonly statistic: number;
  /** Sum of the ranks of |d| over positive differences. */
  readonly rPlus: number;
  /** (R+ − n(n+1)/4)/σ with tie correction, no continuity correction; 0 when σ = 0. */
  readonly z: number;
  /** Two-sided p-value. */
  readonly pValue: number;
  /** Which null distribution gave the p-value (scipy's method="auto" rule). */
  readonly method: "exact" | "permutation" | "asymptotic";
  /** Differences left after dropping zeros; the ranks are over these. */
  readonly nonZero: number;
}

/** Null distribution of R+ for n untied, non-zero differences, as probabilities of 0…n(n+1)/2. */
function wilcoxonExactPmf(n: number): number[] {
  const maxSum = (n * (n + 1)) / 2;
  // Subset counts of {1…n} by sum; they stay below 2^50 for n ≤ 50, exact in doubles.
  const counts = new Array<number>(maxSum + 1).fill(0);
  counts[0] = 1;
  for (let rank = 1; rank <= n; rank++) {
    for (let s = (rank * (rank + 1)) / 2; s >= rank; s--) counts[s] = (counts[s] as number) + (counts[s - rank] as number);
  }
  const total = 2 ** n;
  return counts.map((c) => c / total);
}

/**
 * Exact sign-flip permutation p-value for R+: every one of the 2^n sign assignments of
 * the differences (zeros included, flipping them changes nothing) with ranks held fixed.
 */
function wilcoxonPermutationP(differences: readonly number[], ranks: readonly number[], rPlus: number): number {
  const n = differences.length;
  const permutations = 2 ** n;
  const tolerance = Math.abs(rPlus) * 1e-12; // R+ is a multiple of ½, exact in doubles; guard anyway
  let atMost = 0;
  let atLeast = 0;
  for (let mask = 0; mask < permutations; mask++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = differences[i] as number;
      const positive = (mask >> i) & 1 ? -d > 0 : d > 0;
      if (positive) sum += ranks[i] as number;
    }
    if (sum <= rPlus + tolerance) atMost++;
    if (sum >= rPlus - tolerance) atLeast++;
  }
  return Math.min(1, (2 * Math.min(atMost, atLeast)) / permutations);
}

/**
 * Two-sided Wilcoxon signed-rank test of paired differences (variant − baseline), the
 * right test for interleaved trials. Matches scipy.stats.wilcoxon(differences) with its
 * defaults (zero_method="wilcox": zeros are dropped before ranking; correction=False;
 * method="auto", SciPy ≥ 1.13 rules), on the full length n including zeros:
 * - n ≤ 50, no ties, no zeros: exact null distribution;
 * - n ≤ 13 with ties or zeros: exact sign-flip permutation test (all 2^n assignments);
 * - otherwise: normal approximation with tie correction.
 * One deliberate difference: when every difference is zero SciPy's normal approximation
 * returns NaN; here the p-value is 1 (no evidence of any shift) and z is 0.
 */
export function wilcoxonSignedRank(differences: readonly number[]): WilcoxonResult {
  assertSample(differences, "wilcoxonSignedRank", "differences");
  const nonZeroValues = differences.filter((d) => d !== 0);
  const count = nonZeroValues.length;
  const { ranks: nonZeroRanks, tieGroups } = rankAverage(nonZeroValues.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  nonZeroValues.forEach((d, i) => {
    if (d > 0) rPlus += nonZeroRanks[i] as number;
    else rMinus += nonZeroRanks[i] as number;
  });

  const expected = (count * (count + 1)) / 4;
  const sigma = Math.sqrt((count * (count + 1) * (2 * count + 1) - tieTerm(tieGroups) / 2) / 24);
  const z = sigma === 0 ? 0 : (rPlus - expected) / sigma;
  const base = { statistic: Math.min(rPlus, rMinus), rPlus, z, nonZero: count };

  const n = differences.length;
  const hasTies = tieGroups.some((t) => t > 1);
  const hasZeros = count < n;
  if (n <= 50 && !hasTies && !hasZeros) {
    const pmf = wilcoxonExactPmf(count);
    let cdf = 0;
    for (let s = 0; s <= rPlus; s++) cdf += pmf[s] as number;
    let sf = 0;
    for (let s = rPlus; s < pmf.length; s++) sf += pmf[s] as number;
    return { ...base, pValue: Math.min(1, 2 * Math.min(cdf, sf)), method: "exact" };
  }
  if (n <= 13) {
    // Ranks aligned with the full input; zeros get none (they never count as positive).
    const ranksAll: number[] = [];
    let next = 0;
    for (const d of differences) ranksAll.push(d === 0 ? 0 : (nonZeroRanks[next++] as number));
    return { ...base, pValue: wilcoxonPermutationP(differences, ranksAll, rPlus), method: "permutation" };
  }
  const pValue = sigma === 0 ? 1 : twoSidedNormalP(z);
  return { ...base, pValue, method: "asymptotic" };
}
