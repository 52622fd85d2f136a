// The fixture stream fed in chunks at controlled (fake) times: every figure is exact.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { STREAM_MALFORMED, STREAM_NO_TOKENS, TokenStreamRecorder, streamRequestMetrics, type TokenStreamOutcome } from "./token-stream.ts";

const fixture = readFileSync(new URL("./fixtures/generate-stream.sse", import.meta.url));
const events = fixture.toString("utf8").split("\n\n").filter(Boolean).map((e) => Buffer.from(`${e}\n\n`));

function record(chunks: Array<[string | Buffer, number]>): TokenStreamOutcome {
  const recorder = new TokenStreamRecorder();
  for (const [chunk, atMs] of chunks) recorder.push(chunk, atMs);
  return recorder.finish();
}

describe("TokenStreamRecorder and streamRequestMetrics", () => {
  it("times each token by the chunk that completed its event", () => {
    // Token 1 arrives in two pieces (at 104 and 106): it counts when its blank line arrives.
    const [e0, e1, e2, e3] = events as [Buffer, Buffer, Buffer, Buffer];
    const outcome = record([
      [e0, 100],
      [e1.subarray(0, 20), 104],
      [e1.subarray(20), 106],
      [e2, 111.5],
      [e3, 118],
    ]);
    expect(outcome).toEqual({ ok: true, timing: { tokens: 4, firstTokenAtMs: 100, lastTokenAtMs: 118, gapsMs: [6, 5.5, 6.5] } });
    if (!outcome.ok) return;
    const metrics = streamRequestMetrics(outcome.timing, { scheduledMs: 90, writtenMs: 92, endMs: 119 });
    expect(metrics).toEqual({ ttftMs: 10, ttftServiceMs: 8, itlMs: [6, 5.5, 6.5], endToEndMs: 29, tokens: 4, decodeTokensPerSec: (3 / 18) * 1000 });
  });

  it("gives tokens that arrive in one chunk the same time (a zero gap), as the client saw them", () => {
    const outcome = record([[Buffer.concat(events.slice(0, 2)), 50], [Buffer.concat(events.slice(2)), 60]]);
    expect(outcome).toEqual({ ok: true, timing: { tokens: 4, firstTokenAtMs: 50, lastTokenAtMs: 60, gapsMs: [0, 10, 0] } });
  });

  it("counts no token for an event without text (a final marker) and none for [DONE]", () => {
    const outcome = record([[events[0]!, 1], ['data: {"text_output":"","final":true}\n\n', 2], ["data: [DONE]\n\n", 3]]);
    expect(outcome).toEqual({ ok: true, timing: { tokens: 1, firstTokenAtMs: 1, lastTokenAtMs: 1, gapsMs: [] } });
    if (outcome.ok) expect(streamRequestMetrics(outcome.timing, { scheduledMs: 0, writtenMs: 0, endMs: 4 }).decodeTokensPerSec).toBeNaN();
  });

  it("reads Triton's rendering of a BYTES output as a list of strings", () => {
    expect(record([['data: {"text_output":["a"]}\n\n', 5]])).toMatchObject({ ok: true, timing: { tokens: 1 } });
  });

  it("an error object in a 200 stream makes the request an error with its reason", () => {
    expect(record([[events[0]!, 1], ['data: {"error":"model   crashed\\nat token 2"}\n\n', 2], [events[1]!, 3]])).toEqual({ ok: false, error: "stream-error: model crashed at token 2" });
    expect(record([["event: error\ndata: overloaded\n\n", 1]])).toEqual({ ok: false, error: "stream-error: overloaded" });
    const long = "x".repeat(500);
    const cut = record([[`data: {"error":"${long}"}\n\n`, 1]]);
    expect(cut.ok ? "" : cut.error).toBe(`stream-error: ${"x".repeat(80)}…`);
  });

  it("a stream that ends without a token, or whose events are not JSON objects, is an error", () => {
    expect(record([])).toEqual({ ok: false, error: STREAM_NO_TOKENS });
    expect(record([["data: {\"text_output\":\"a\"}\n", 1]])).toEqual({ ok: false, error: STREAM_NO_TOKENS }); // never closed
    expect(record([['{"text_output":"a"}', 1]])).toEqual({ ok: false, error: STREAM_NO_TOKENS }); // a plain JSON body has no events
    expect(record([["data: not json\n\n", 1]])).toEqual({ ok: false, error: STREAM_MALFORMED });
    expect(record([["data: [1,2]\n\n", 1]])).toEqual({ ok: false, error: STREAM_MALFORMED });
  });
});
