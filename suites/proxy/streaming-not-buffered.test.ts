// streaming-not-buffered's judgement of one stream against its direct twin, without pods.
import { describe, expect, it } from "vitest";
import { judgeStream, TOKENS, type StreamBounds } from "./streaming-not-buffered.ts";

const BOUNDS: StreamBounds = { streamLagMs: 200, streamMinSpanRatio: 0.5, streamMinGapRatio: 0.5 };
const body = Buffer.from(Array.from({ length: TOKENS }, (_, i) => `data: {"text_output":"t${i}"}\n\n`).join(""));
const timing = (arrivalsMs: number[], bytes = body) => ({ status: 200, contentType: "text/event-stream; charset=utf-8", arrivalsMs, body: bytes });
const direct = timing(Array.from({ length: TOKENS }, (_, i) => 5 + 40 * i));
const shifted = (by: (i: number) => number) => timing(direct.arrivalsMs.map((t, i) => t + by(i)));

describe("judgeStream", () => {
  it("passes a stream that follows its direct twin closely", () => {
    const verdict = judgeStream(direct, shifted(() => 30), BOUNDS);
    expect(verdict.problems).toEqual([]);
    expect(verdict.ttftLagMs).toBe(30);
    expect(verdict.spanRatio).toBe(1);
  });

  it("forgives one stalled token per stream, not two", () => {
    expect(judgeStream(direct, shifted((i) => (i === 5 ? 500 : 10)), BOUNDS).problems).toEqual([]);
    const [problem] = judgeStream(direct, shifted((i) => (i === 5 ? 500 : i === 8 ? 260 : 10)), BOUNDS).problems;
    expect(problem).toBe("token 8 arrived 260 ms after its direct arrival, and 500 ms the worst (bound: 200 ms, one token per stream excepted)");
  });

  it("fails a first token held back past the bound, though the rest arrive on time", () => {
    const held = shifted((i) => (i === 0 ? 30 : 0));
    expect(judgeStream(direct, held, { ...BOUNDS, streamLagMs: 20 }).problems).toEqual(["first token after 35 ms, directly 5 ms (bound: +20 ms)"]);
  });

  it("fails a stream delivered in one batch at its end, by lag, span and gap", () => {
    const problems = judgeStream(direct, timing(direct.arrivalsMs.map(() => 460)), BOUNDS).problems;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^first token after 460 ms/);
    expect(problems[2]).toBe("tokens spread over 0 ms, directly 440 ms (bound: ≥ 50%)");
    expect(problems[3]).toBe("median inter-token gap 0 ms, directly 40 ms (bound: ≥ 50%)");
  });

  it("fails a stream whose events differ from the direct ones, or that lost some", () => {
    const changed = Buffer.from(body);
    changed[10] = 0x21;
    expect(judgeStream(direct, timing(direct.arrivalsMs, changed), BOUNDS).problems[0]).toMatch(/^12 events whose bytes differ from the direct 12: first difference at byte 10/);
    const short = judgeStream(direct, timing(direct.arrivalsMs.slice(0, 6), body.subarray(0, body.indexOf("t6") - 20)), BOUNDS);
    expect(short.problems[0]).toMatch(/^6 events whose bytes differ from the direct 12/);
  });

  it("judges by the policy's bounds", () => {
    expect(judgeStream(direct, shifted(() => 150), { ...BOUNDS, streamLagMs: 100 }).problems[0]).toBe("first token after 155 ms, directly 5 ms (bound: +100 ms)");
  });
});
