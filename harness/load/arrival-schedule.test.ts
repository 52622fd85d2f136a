import { describe, expect, it } from "vitest";
import { arrivalOffsetsMs } from "./arrival-schedule.ts";

function take(it: Iterator<number>, n: number): number[] {
  return Array.from({ length: n }, () => it.next().value as number);
}

describe("arrivalOffsetsMs", () => {
  it("spaces constant arrivals exactly 1/rate apart, without drift", () => {
    expect(take(arrivalOffsetsMs("constant", 500, 0), 4)).toEqual([0, 2, 4, 6]);
    const offsets = take(arrivalOffsetsMs("constant", 3, 0), 30_001);
    expect(offsets[30_000]).toBeCloseTo(10_000_000, 6);
  });

  it("draws Poisson gaps with mean 1/rate and an exponential shape", () => {
    // 20 000 gaps per seed: the mean's standard error is 0.7%, so ±3% is over 4σ, and
    // the seeds are fixed, so the test is deterministic anyway.
    const ratePerSec = 250;
    const meanMs = 1000 / ratePerSec;
    for (const seed of [1, 2, 3, 12345]) {
      const offsets = take(arrivalOffsetsMs("poisson", ratePerSec, seed), 20_001);
      expect(offsets[0]).toBe(0);
      const gaps = offsets.slice(1).map((t, i) => t - offsets[i]!);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1));
      expect(Math.abs(mean / meanMs - 1)).toBeLessThan(0.03);
      // Exponential: sd equals the mean, P(gap > mean) = 1/e.
      expect(Math.abs(sd / mean - 1)).toBeLessThan(0.05);
      expect(Math.abs(gaps.filter((g) => g > meanMs).length / gaps.length - Math.exp(-1))).toBeLessThan(0.02);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0);
    }
  });

  it("is reproducible from the seed", () => {
    expect(take(arrivalOffsetsMs("poisson", 100, 9), 50)).toEqual(take(arrivalOffsetsMs("poisson", 100, 9), 50));
    expect(take(arrivalOffsetsMs("poisson", 100, 9), 50)).not.toEqual(take(arrivalOffsetsMs("poisson", 100, 10), 50));
  });

  it("rejects a non-positive rate", () => {
    expect(() => arrivalOffsetsMs("constant", 0, 1).next()).toThrow(/ratePerSec/);
  });
});
