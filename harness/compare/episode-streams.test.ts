import { describe, expect, it } from "vitest";
import type { RequestOutcome } from "../load/open-loop.ts";
import { p99RatioCi95, summarizeStream, timeToRecoverMs } from "./episode-streams.ts";

const ok = (at: number, latencyMs = 1): RequestOutcome => ({ scheduledAtMs: at, latencyMs, status: 200, error: null });
const failed = (at: number, error = "connection"): RequestOutcome => ({ scheduledAtMs: at, latencyMs: 1, status: null, error });

describe("timeToRecoverMs", () => {
  it("is 0 when nothing failed after the trigger", () => {
    expect(timeToRecoverMs([failed(50), ok(100), ok(200)], 100)).toBe(0);
  });

  it("runs from the trigger to the first ok request after the last failure", () => {
    const outcomes = [ok(90), failed(110), ok(120), failed(300), failed(400), ok(450), ok(500)];
    expect(timeToRecoverMs(outcomes, 100)).toBe(350);
  });

  it("is null when the stream ended failing (not recovered within the window)", () => {
    expect(timeToRecoverMs([ok(90), failed(110), failed(900)], 100)).toBeNull();
  });

  it("does not count requests the generator itself failed to send", () => {
    expect(timeToRecoverMs([ok(110), failed(120, "not-sent"), ok(130)], 100)).toBe(0);
  });
});

describe("p99RatioCi95", () => {
  const latencies = (n: number, scaleUs: number, seed: number) => Array.from({ length: n }, (_, i) => scaleUs * (1 + ((i * 7919 + seed) % 97) / 97));

  it("brackets the true ratio when the during window is a scaled copy of before", () => {
    const before = latencies(300, 1_000, 1);
    const ratio = p99RatioCi95(before, before.map((v) => v * 4), 9)!;
    expect(ratio.estimate).toBeCloseTo(4, 6);
    expect(ratio.low).toBeLessThanOrEqual(4);
    expect(ratio.high).toBeGreaterThanOrEqual(4);
  });

  it("is wide for small windows and narrows with more requests, reproducibly from its seed", () => {
    const small = p99RatioCi95(latencies(25, 1_000, 1), latencies(25, 1_000, 2), 3)!;
    const large = p99RatioCi95(latencies(1_000, 1_000, 1), latencies(1_000, 1_000, 2), 3)!;
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
    expect(p99RatioCi95(latencies(25, 1_000, 1), latencies(25, 1_000, 2), 3)).toEqual(small);
  });

  it("says nothing with fewer than 20 requests in a window", () => {
    expect(p99RatioCi95(latencies(19, 1_000, 1), latencies(300, 1_000, 2), 3)).toBeNull();
  });
});

describe("summarizeStream", () => {
  const outcomes = [
    ...Array.from({ length: 100 }, (_, i) => ok(i * 10, 1 + (i % 10) / 10)),
    ...Array.from({ length: 50 }, (_, i) => failed(1000 + i * 10, i % 2 ? "timeout" : "503")),
    ...Array.from({ length: 50 }, (_, i) => ok(1500 + i * 10, 5)),
    failed(1990, "not-sent"),
  ];
  const stream = summarizeStream({ target: "entry", ratePerSec: 100, outcomes, startedAtMs: 0, triggerAtMs: 1000, binMs: 250, seed: 5 });

  it("splits availability and latency at the trigger", () => {
    expect(stream.before).toMatchObject({ sent: 100, ok: 100, failed: 0, availabilityPct: 100 });
    expect(stream.before.p99Us).toBeCloseTo(1900, -1);
    expect(stream.during).toMatchObject({ sent: 100, ok: 50, failed: 50, availabilityPct: 50, p50Us: 5000, p99Us: 5000 });
    expect(stream.errors).toEqual({ "503": 25, timeout: 25, "not-sent": 1 });
    expect(stream.timeToRecoverMs).toBe(500);
  });

  it("keeps a timeline of ok and failed requests per bin", () => {
    expect(stream.timeline).toHaveLength(8);
    expect(stream.timeline[0]).toEqual({ ok: 25, failed: 0 });
    expect(stream.timeline[4]).toEqual({ ok: 0, failed: 25 });
    expect(stream.timeline[6]).toEqual({ ok: 25, failed: 0 });
    expect(stream.timeline.reduce((sum, b) => sum + b.ok + b.failed, 0)).toBe(200);
  });
});
