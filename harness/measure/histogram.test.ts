import { describe, expect, it } from "vitest";
import { createLatencyHistogram, decodeHistogram, encodeHistogram, recordMs, summarize } from "./histogram.ts";

describe("latency histograms (µs)", () => {
  it("records fractional milliseconds at microsecond resolution", () => {
    const h = createLatencyHistogram();
    recordMs(h, 0.2374); // 237.4 µs
    recordMs(h, 0.0001); // below 1 µs: clamped to 1
    expect(h.maxValue).toBe(237);
    expect(h.minNonZeroValue).toBe(1);
  });

  it("gives percentiles within the 3-significant-digit bound on a known distribution", () => {
    const h = createLatencyHistogram();
    for (let us = 1; us <= 10_000; us++) recordMs(h, us / 1000);
    const s = summarize(h);
    expect(s.count).toBe(10_000);
    for (const [value, exact] of [[s.p50, 5_000], [s.p90, 9_000], [s.p99, 9_900], [s.p99_9, 9_990]] as const) {
      expect(Math.abs(value - exact) / exact).toBeLessThanOrEqual(0.001);
    }
  });

  it("survives encoding: the decoded histogram has the same counts and percentiles", () => {
    const h = createLatencyHistogram();
    for (let i = 0; i < 5_000; i++) recordMs(h, 0.15 + ((i * 7919) % 1000) / 1000);
    recordMs(h, 250); // a 250 ms stall
    const { max: decodedMax, ...decoded } = summarize(decodeHistogram(encodeHistogram(h)));
    const { max, ...original } = summarize(h);
    expect(decoded).toEqual(original);
    // A decoded histogram knows the max only to its bucket's precision (3 digits).
    expect(Math.abs(decodedMax - max) / max).toBeLessThanOrEqual(0.001);
  });

  it("summarizes an empty histogram as NaN, not zero", () => {
    const s = summarize(createLatencyHistogram());
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
  });
});
