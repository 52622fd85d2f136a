import { describe, expect, it } from "vitest";
import {
  claimUnder,
  detectionProbability,
  exchangeClaim,
  observationClaim,
  smallestCaughtFraction,
  triesNeeded,
} from "./detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "./suite-config.ts";

describe("detection arithmetic", () => {
  it("44 independent tries catch a fault on 10% of them with ≥ 99% probability; 43 do not", () => {
    expect(detectionProbability(0.1, 44)).toBeCloseTo(1 - 0.9 ** 44, 12);
    expect(detectionProbability(0.1, 44)).toBeGreaterThanOrEqual(0.99);
    expect(detectionProbability(0.1, 43)).toBeLessThan(0.99);
    expect(triesNeeded(0.1)).toBe(44);
    expect(DEFAULT_SUITE_CONFIG.triesPerExpectation).toBe(44);
  });

  it("the smallest fraction caught at 99% is 1 − 0.01^(1/n), and n tries catch exactly that with 99%", () => {
    expect(smallestCaughtFraction(44)).toBeCloseTo(0.0994, 4);
    expect(smallestCaughtFraction(1)).toBeCloseTo(0.99, 12);
    for (const n of [1, 10, 44, 100, 484]) expect(detectionProbability(smallestCaughtFraction(n), n)).toBeCloseTo(0.99, 9);
  });

  it("matches a simulation: a fault on 10% of requests, 44 tries, escapes in about 0.97% of runs", () => {
    // A deterministic LCG, so the figure is the same every run.
    let state = 12_345;
    const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const runs = 100_000;
    let escaped = 0;
    for (let run = 0; run < runs; run++) {
      let caught = false;
      for (let attempt = 0; attempt < 44 && !caught; attempt++) caught = random() < 0.1;
      if (!caught) escaped++;
    }
    expect(escaped / runs).toBeGreaterThan(0.0097 - 0.002);
    expect(escaped / runs).toBeLessThan(0.0097 + 0.002);
  });

  it("claims scale with the certification's tries; observations do not", () => {
    const claim = exchangeClaim(44, "request");
    expect(claimUnder(claim, 100)).toEqual(exchangeClaim(100, "request"));
    expect(claimUnder(observationClaim("1 SIGTERM"), 100)).toEqual(observationClaim("1 SIGTERM"));
    expect(claimUnder(exchangeClaim(64, "connection", { fixedTries: true }), 100).triesPerExpectation).toBe(64);
  });
});
