import { describe, expect, it } from "vitest";
import type { TrialResult } from "../report/results-model.ts";
import { analyzeSweep, findKnee, sweepCurve, sweepRates, type SweepPoint } from "./rate-sweep.ts";

/** A measured trial of `arm` at `rate` whose p50/p99 are given in µs. */
function trial(arm: string, rate: number, round: number, p50: number, p99: number, achieved = rate, errors = 0): TrialResult {
  return {
    arm,
    round,
    warmup: false,
    load: { mode: "open", targetRatePerSec: rate, achievedRatePerSec: achieved, rateShortfallPct: Math.max(0, ((rate - achieved) / rate) * 100), errors: errors > 0 ? { "http-500": errors } : {} },
    latencyUs: { p50, p99 },
  } as unknown as TrialResult;
}

const point = (rate: number, p99: number, extra: Partial<SweepPoint> = {}): SweepPoint => ({
  arm: "envoy",
  ratePerSec: rate,
  rounds: 5,
  latencyP50Us: { estimate: p99 / 2, low: p99 / 2, high: p99 / 2 },
  latencyP99Us: { estimate: p99, low: p99 * 0.9, high: p99 * 1.1 },
  achievedRatePerSec: rate,
  rateShortfallPct: 0,
  errors: 0,
  ...extra,
});

const rule = { kneeP99Factor: 2, maxRateShortfallPct: 2 };

describe("sweepRates", () => {
  it("sorts an explicit list and builds a geometric ladder", () => {
    expect(sweepRates({ ratesPerSec: [400, 100, 200], kneeP99Factor: 2 })).toEqual([100, 200, 400]);
    expect(sweepRates({ fromPerSec: 100, toPerSec: 1600, steps: 5, kneeP99Factor: 2 })).toEqual([100, 200, 400, 800, 1600]);
    expect(sweepRates({ fromPerSec: 50, toPerSec: 500, steps: 3, kneeP99Factor: 2 })).toEqual([50, 158.1, 500]);
  });
});

describe("sweepCurve", () => {
  it("gives each arm and rate the median of its rounds with a CI, and skips warm-up and single rounds", () => {
    const trials = [
      ...[1, 2, 3].map((r) => trial("baseline", 100, r, 1_000 + r, 2_000 + 10 * r)),
      trial("baseline", 200, 4, 1_100, 2_500),
      { ...trial("baseline", 100, 0, 9_999, 99_999), warmup: true },
      ...[1, 2, 3].map((r) => trial("envoy", 100, r, 1_200, 2_400, 97)),
    ];
    const points = sweepCurve(trials, ["baseline", "envoy"], [100, 200], 1);
    expect(points.map((p) => [p.arm, p.ratePerSec, p.rounds])).toEqual([
      ["baseline", 100, 3],
      ["envoy", 100, 3],
    ]);
    expect(points[0]!.latencyP50Us!.estimate).toBe(1_002);
    expect(points[0]!.latencyP99Us!.estimate).toBe(2_020);
    expect(points[0]!.latencyP99Us!.low).toBeGreaterThanOrEqual(2_010);
    expect(points[0]!.latencyP99Us!.high).toBeLessThanOrEqual(2_030);
    expect(points[1]!.achievedRatePerSec).toBe(97);
    expect(points[1]!.rateShortfallPct).toBeCloseTo(3);
  });
});

describe("sweepCurve and analyzeSweep at saturation", () => {
  it("keeps a rate whose rounds answered nothing as errors without percentiles, saturated, with no paired Δ", () => {
    const trials = [
      ...[0, 1].flatMap((r) => [trial("baseline", 100, r, 1_000, 2_000), trial("envoy", 100, r, 1_200, 2_500)]),
      ...[2, 3].flatMap((r) => [trial("baseline", 800, r, Number.NaN, Number.NaN, 0, 160), trial("envoy", 800, r, 900_000, 2_000_000, 300, 100)]),
    ];
    let analysed = 0;
    const sweep = analyzeSweep({ trials, arms: ["baseline", "envoy"], ratesPerSec: [100, 800], kneeP99Factor: 2, maxRateShortfallPct: 2, seed: 1, analyze: () => ++analysed });
    expect(sweep.points.find((p) => p.arm === "baseline" && p.ratePerSec === 800)).toMatchObject({ latencyP50Us: null, latencyP99Us: null, errors: 320 });
    expect(sweep.knees).toEqual([
      { arm: "baseline", kneeRatePerSec: 100, saturatedAtPerSec: 800, reason: "achieved 0.0 req/s, 100.0% short of 800 (threshold 2%)" },
      { arm: "envoy", kneeRatePerSec: 100, saturatedAtPerSec: 800, reason: "achieved 300.0 req/s, 62.5% short of 800 (threshold 2%)" },
    ]);
    expect(sweep.perRate).toEqual([
      { ratePerSec: 100, analysis: 1 },
      { ratePerSec: 800, analysis: null, note: "2 trial(s) at 800 req/s answered no request: no paired Δ at this rate" },
    ]);
  });
});

describe("findKnee", () => {
  it("is the last rate before p99 is clearly above the factor × the lightest rate's p99", () => {
    const curve = [point(100, 2_000), point(200, 2_100), point(400, 3_900), point(800, 9_000)];
    const knee = findKnee("envoy", curve, rule);
    expect(knee).toMatchObject({ kneeRatePerSec: 400, saturatedAtPerSec: 800 });
    expect(knee.reason).toBe("p99 9.00 ms [8.10, 9.90] at 800 req/s is above 2× the p99 at 100 req/s (4.00 ms)");
  });

  it("does not place a knee where the CI still reaches under the limit (noise alone)", () => {
    const curve = [point(100, 2_000), point(200, 4_300, { latencyP99Us: { estimate: 4_300, low: 3_900, high: 4_800 } })];
    expect(findKnee("envoy", curve, rule)).toMatchObject({ kneeRatePerSec: 200, saturatedAtPerSec: null });
  });

  it("saturates where the generator could not keep the rate, or requests failed", () => {
    expect(findKnee("envoy", [point(100, 2_000), point(200, 2_000, { achievedRatePerSec: 180, rateShortfallPct: 10 })], rule)).toMatchObject({
      kneeRatePerSec: 100,
      saturatedAtPerSec: 200,
      reason: "achieved 180.0 req/s, 10.0% short of 200 (threshold 2%)",
    });
    expect(findKnee("envoy", [point(100, 2_000, { errors: 3 })], rule)).toMatchObject({ kneeRatePerSec: null, saturatedAtPerSec: 100, reason: "3 request(s) failed at 100 req/s" });
  });

  it("says when every rate was sustained, and when there is no curve", () => {
    expect(findKnee("envoy", [point(100, 2_000), point(200, 2_200)], rule)).toEqual({
      arm: "envoy",
      kneeRatePerSec: 200,
      saturatedAtPerSec: null,
      reason: "every rate up to 200 req/s sustained: the knee lies beyond the sweep",
    });
    expect(findKnee("other", [point(100, 2_000)], rule).reason).toBe("no rate has two measured rounds");
  });
});
