import { describe, expect, it } from "vitest";
import { addedByTool, agreement, type Measured } from "./perf-analyzer-agreement.ts";

describe("whether two tools' latencies agree", () => {
  it("agrees when the medians differ by less than a tool's round-to-round spread", () => {
    // perf_analyzer p99 over three rounds 3.2, 2.0, 2.2 ms; ours 7.1, 2.5, 4.2 ms: medians 2.2 vs 4.2, spread 4.6.
    const a = agreement([3218, 2007, 2235], [7067, 2465, 4167]);
    expect(a.theirsUs).toBe(2235);
    expect(a.oursUs).toBe(4167);
    expect(a.spreadUs).toBe(7067 - 2465);
    expect(a.agree).toBe(true);
    expect(a.differenceFraction).toBeCloseTo((4167 - 2235) / 2235, 6);
  });

  it("differs when both tools are steady and apart", () => {
    const a = agreement([1000, 1010, 1005], [1500, 1490, 1510]);
    expect(a.spreadUs).toBe(20);
    expect(a.agree).toBe(false);
  });

  it("refuses to judge without a round from each tool", () => {
    expect(() => agreement([], [1])).toThrow(/at least one round/);
  });

  it("takes a sidecar's cost per round, by each tool, skipping rounds missing a target", () => {
    const m = (round: number, target: string, tool: Measured["tool"], p50Us: number): Measured => ({ round, target, tool, p50Us, p99Us: 0, ratePerSec: 200 });
    const measured = [
      m(1, "baseline", "perf_analyzer", 1000), m(1, "envoy", "perf_analyzer", 1600),
      m(2, "baseline", "perf_analyzer", 900), m(2, "envoy", "perf_analyzer", 1700),
      m(3, "baseline", "perf_analyzer", 1100),
      m(1, "baseline", "sidecar-bench", 1100), m(1, "envoy", "sidecar-bench", 1500),
    ]; // prettier-ignore
    expect(addedByTool(measured, "baseline", "envoy", "perf_analyzer", (x) => x.p50Us)).toBe(700);
    expect(addedByTool(measured, "baseline", "envoy", "sidecar-bench", (x) => x.p50Us)).toBe(400);
    expect(addedByTool(measured, "baseline", "nothing", "sidecar-bench", (x) => x.p50Us)).toBeNull();
  });
});
