// Token streams through the open loop, against an in-process SSE server on 127.0.0.1:
// counts and structure are exact, timings are bounded by ratios (a noisy 2-core machine).
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./fixtures/test-server.ts";
import { buildGenerateStreamRequest } from "./generate-request.ts";
import { runOpenLoop } from "./open-loop.ts";
import { resultMessage, resultsOf, type GeneratorMessage } from "./remote/remote-protocol.ts";

const request = buildGenerateStreamRequest({ model: "m", maxTokens: 4 }, 1);
const token = (i: number) => `data: {"text_output":"t${i}","index":${i}}\n\n`;

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function streamRun(sse: NonNullable<Parameters<typeof startTestServer>[0]>["sse"], status?: (n: number) => number) {
  const server = await startTestServer({ sse, ...(status ? { status } : {}) });
  servers.push(server);
  return { server, result: await runOpenLoop({ url: server.url, request, ratePerSec: 40, arrival: "constant", seed: 1, durationMs: 500, maxRequests: 100, timeoutMs: 5_000, maxConnections: 8 }) };
}

describe("open loop with a token stream", () => {
  it("times every token: TTFT below end-to-end, one gap fewer than tokens per stream", async () => {
    const { server, result } = await streamRun(() => ({ chunks: [0, 1, 2, 3].map(token), intervalMs: 10 }));
    const { summary, histograms } = result;
    expect(server.lastRequest()?.url).toBe("/v2/models/m/generate_stream");
    expect(JSON.parse(server.lastRequest()!.body.toString())).toMatchObject({ text_input: expect.any(String), parameters: { max_tokens: 4 } });
    expect(summary.scheduled).toBe(20);
    expect(summary.ok).toBe(20);
    expect(summary.errors).toEqual({});
    expect(summary.stream?.tokens).toBe(80);
    expect(histograms.stream?.ttft.totalCount).toBe(20);
    expect(histograms.stream?.ttftService.totalCount).toBe(20);
    expect(histograms.stream?.itl.totalCount).toBe(60);
    expect(summary.stream!.ttftUs.p50).toBeLessThan(summary.latencyUs.p50);
    expect(summary.stream!.ttftServiceUs.p50).toBeLessThanOrEqual(summary.stream!.ttftUs.p50);
    // The server writes a token every 10 ms: gaps of 10 ms, within a factor of the machine's noise.
    expect(summary.stream!.itlUs.p50).toBeGreaterThan(10_000 * 0.5);
    expect(summary.stream!.itlUs.p50).toBeLessThan(10_000 * 5);
    expect(summary.stream!.streamTokensPerSecP50).toBeGreaterThan(100 / 5);
    expect(summary.stream!.streamTokensPerSecP50).toBeLessThan(100 * 2);
  });

  it("the stream figures survive the remote generator's wire", async () => {
    const { result } = await streamRun(() => ({ chunks: [0, 1].map(token), intervalMs: 2 }));
    const [back] = resultsOf(JSON.parse(JSON.stringify(resultMessage(1, [result]))) as Extract<GeneratorMessage, { type: "result" }>);
    expect(back!.summary.stream).toEqual(result.summary.stream);
    expect(back!.histograms.stream!.itl.totalCount).toBe(result.histograms.stream!.itl.totalCount);
    expect(back!.histograms.stream!.ttft.getValueAtPercentile(50)).toBe(result.histograms.stream!.ttft.getValueAtPercentile(50));
  });

  it("an error event under 200, and a stream without tokens, are errors with their reason", async () => {
    const { result } = await streamRun((n) => ({
      chunks: n % 4 === 0 ? [token(0), 'data: {"error":"decoder failed"}\n\n'] : n % 4 === 1 ? [": keep-alive\n\n"] : [token(0), token(1)],
      intervalMs: 1,
    }));
    const { summary, histograms } = result;
    expect(summary.scheduled).toBe(20);
    expect(summary.errors).toEqual({ "stream-error: decoder failed": 5, "stream-no-tokens": 5 });
    expect(summary.completed).toBe(20);
    expect(summary.ok).toBe(10);
    expect(summary.stream?.tokens).toBe(20);
    expect(histograms.latency.totalCount).toBe(10);
    expect(histograms.stream?.ttft.totalCount).toBe(10);
  });

  it("a non-2xx answer counts by its status, as for unary requests", async () => {
    const { result } = await streamRun(() => ({ chunks: [token(0)], intervalMs: 1 }), (n) => (n % 2 === 0 ? 400 : 200));
    expect(result.summary.errors).toEqual({ "400": 10 });
    expect(result.summary.stream?.tokens).toBe(10);
  });
});
