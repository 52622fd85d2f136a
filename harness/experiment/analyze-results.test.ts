// The token-stream part of the analysis, on synthetic trials whose figures are known:
// the same paired Δ and A/A floor as latency, and nothing of it for unary workloads.
import { describe, expect, it } from "vitest";
import type { PercentilesUs } from "../measure/histogram.ts";
import { tokenStreamMarkdown } from "../report/markdown-writer.ts";
import { summaryCsv } from "../report/csv-writer.ts";
import type { Results, TrialResult } from "../report/results-model.ts";
import { analyzeResults } from "./analyze-results.ts";

const percentiles = (p50: number, p99: number): PercentilesUs => ({ p50, p90: p99, p99, p99_9: p99, min: p50, max: p99, mean: p50, count: 100 });

/** Round r of `arm`; stream figures shifted by `addUs` (TTFT) and `addItlUs` (ITL). */
function trial(arm: string, round: number, stream: { addUs: number; addItlUs: number } | null): TrialResult {
  const wobble = round * 7; // the machine drifts between rounds; pairing cancels it
  return {
    sequence: round,
    arm,
    pod: arm,
    warmup: false,
    round,
    startedAt: "2026-01-01T00:00:00Z",
    durationMs: 3000,
    load: { mode: "open", targetRatePerSec: 20, achievedRatePerSec: 20, rateShortfallPct: 0, rateShortfall: false, scheduled: 60, completed: 60, ok: 60, errors: {}, connections: 32 },
    latencyUs: percentiles(80_000 + wobble, 90_000 + wobble),
    serviceTimeUs: percentiles(79_000 + wobble, 89_000 + wobble),
    pacingErrorUs: { p50: 10, p99: 50, max: 80 },
    histograms: { latency: "", serviceTime: null, pacingError: null },
    resources: [],
    ...(stream
      ? {
          stream: {
            tokens: 960,
            ttftUs: percentiles(3_000 + wobble + stream.addUs, 6_000 + wobble + stream.addUs),
            ttftServiceUs: percentiles(2_900 + wobble, 5_900 + wobble),
            itlUs: percentiles(5_000 + wobble + stream.addItlUs, 7_000 + wobble + stream.addItlUs),
            tokensPerSec: 320,
            streamTokensPerSecP50: 200,
            histograms: { ttft: "", ttftService: "", itl: "" },
          },
        }
      : {}),
  };
}

function trials(stream: boolean): TrialResult[] {
  const rounds = [0, 1, 2, 3, 4, 5];
  return rounds.flatMap((r) => [
    trial("baseline", r, stream ? { addUs: 0, addItlUs: 0 } : null),
    trial("envoy", r, stream ? { addUs: 2_000, addItlUs: 40 } : null),
    trial("baseline/aa", r, stream ? { addUs: 0, addItlUs: 0 } : null),
  ]);
}

const input = (all: TrialResult[]) => ({ trials: all, pods: [], baselineArm: "baseline", aaArm: "baseline/aa", variants: ["envoy"], budgets: {}, seed: 1 });

describe("analyzeResults: token streams", () => {
  it("gives each arm's medians and the variant's paired TTFT and ITL Δ against the A/A floor", () => {
    const analysis = analyzeResults(input(trials(true)))!;
    const stream = analysis.tokenStream!;
    expect(stream.arms.map((a) => a.arm)).toEqual(["baseline", "envoy"]);
    // Median over rounds 0..5 of 3000 + 7r is 3000 + 17.5.
    expect(stream.arms[0]).toEqual({ arm: "baseline", ttftP50Us: 3_017.5, ttftP99Us: 6_017.5, itlP50Us: 5_017.5, itlP99Us: 7_017.5, endToEndP50Us: 80_017.5, endToEndP99Us: 90_017.5, tokensPerSec: 320, streamTokensPerSec: 200 });
    const [envoy] = stream.variants;
    expect(envoy!.variant).toBe("envoy");
    expect(Object.keys(envoy!.ttft)).toEqual(["p50", "p99"]);
    // Every round adds exactly 2 ms to TTFT and 40 µs to ITL: the Δ and its whole CI are that.
    expect(envoy!.ttft["p50"]).toMatchObject({ deltaMedian: 2_000, ci95: { low: 2_000, high: 2_000 }, rounds: 6, verdict: "slower" });
    expect(envoy!.itl["p99"]).toMatchObject({ deltaMedian: 40, ci95: { low: 40, high: 40 }, verdict: "slower" });
    expect(stream.noiseFloor!.ttft["p50"]).toMatchObject({ deltaMedian: 0, halfWidth: 0 });
  });

  it("is absent for a unary workload, whose analysis is unchanged", () => {
    const analysis = analyzeResults(input(trials(false)))!;
    expect(analysis).not.toHaveProperty("tokenStream");
    expect(analysis.variants[0]!.latency["p50"]!.deltaMedian).toBe(0);
  });

  it("renders the Token stream section and the summary.csv rows", () => {
    const analysis = analyzeResults(input(trials(true)))!;
    const text = tokenStreamMarkdown(analysis.tokenStream!, analysis.rounds);
    expect(text).toContain("### Token stream");
    expect(text).toContain("| baseline | 3.02 ms | 6.02 ms | 5.02 ms | 7.02 ms | 80.0 ms | 90.0 ms | 320.0 | 200.0 |");
    expect(text).toContain("| envoy | TTFT p50 | +2.00 ms | [+2.00 ms, +2.00 ms] |");
    expect(text).toContain("| envoy | ITL p99 | +40.0 µs | [+40.0 µs, +40.0 µs] |");
    expect(text).toContain("#### Token-stream noise floor (A/A: baseline against itself)");
    const csv = summaryCsv({ analysis } as Results);
    expect(csv.split("\n").filter((line) => line.startsWith("envoy,ttft,") || line.startsWith("envoy,itl,"))).toHaveLength(4);
  });
});
