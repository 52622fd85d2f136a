// The generator's messages survive the wire (JSON lines) whole: a round's options with any
// body bytes, and results with their histograms and the NaN figures of a target that got
// no ok response. Results come from a real open loop against a server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarize } from "../../measure/histogram.ts";
import { startTestServer, type TestServer } from "../fixtures/test-server.ts";
import { buildInferRequest } from "../kserve-request.ts";
import { buildGrpcInferRequest } from "../grpc/grpc-infer-request.ts";
import { runInterleavedOpenLoop, type OpenLoopResult } from "../open-loop.ts";
import { LineSplitter, REMOTE_PROTOCOL_VERSION, resultMessage, resultsOf, roundMessage, roundOptionsOf, type GeneratorMessage, type HarnessMessage, type RoundOptions } from "./remote-protocol.ts";

const overTheWire = <T>(message: T): T => JSON.parse(JSON.stringify(message)) as T;

const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const round: RoundOptions = {
  targets: [
    { url: "http://10.247.0.12:8080", request: { path: "/v2/models/m/infer", method: "POST", headers: { "content-type": "application/octet-stream", "inference-header-content-length": "42" }, body: everyByte } },
    { url: "http://10.247.0.13:15001", request: { path: "/healthz", method: "GET", headers: {}, body: Buffer.alloc(0) } },
  ],
  slotMs: 250,
  slotOrder: [0, 1, 1, 0],
  ratePerSec: 400,
  arrival: "poisson",
  seed: 7,
  maxRequests: 500,
  timeoutMs: 2_000,
  maxConnections: 16,
  rateShortfallThresholdPct: 5,
};

describe("round messages", () => {
  it("carry exactly the round's options, body bytes included", () => {
    const message = overTheWire(roundMessage(3, round)) as Extract<HarnessMessage, { type: "round" }>;
    expect(message).toMatchObject({ type: "round", id: 3 });
    const options = roundOptionsOf(message);
    expect(options).toEqual(round);
    expect(Buffer.compare(options.targets[0]!.request.body, everyByte)).toBe(0);
    expect(options.targets[1]!.request.body.length).toBe(0);
  });

  it("a gRPC request: its serialized ModelInfer, model and metadata (else the far side sends the HTTP twin)", () => {
    const grpc = buildGrpcInferRequest({ model: "mlp", format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64] }], headers: { "x-api-key": "k1" } }, 7);
    const withGrpc: RoundOptions = { ...round, targets: [{ url: "http://127.0.0.1:8001", request: { ...round.targets[0]!.request, grpc } }] };
    const options = roundOptionsOf(overTheWire(roundMessage(4, withGrpc)) as Extract<HarnessMessage, { type: "round" }>);
    const sent = options.targets[0]!.request.grpc!;
    expect(sent.model).toBe("mlp");
    expect(sent.metadata).toEqual(grpc.metadata);
    expect(Buffer.compare(sent.body, grpc.body)).toBe(0);
    expect(sent.message.model_name).toBe(grpc.message.model_name);
  });

  it("a real inference request's body too", () => {
    const request = buildInferRequest({ model: "m", format: "binary", inputs: [{ name: "x", datatype: "FP32", shape: [1, 16] }] }, 1);
    const options = roundOptionsOf(overTheWire(roundMessage(1, { ...round, targets: [{ url: "http://10.247.0.12:8080", request }] })) as Extract<HarnessMessage, { type: "round" }>);
    expect(options.targets[0]!.request).toEqual(request);
  });
});

describe("result messages", () => {
  const servers: TestServer[] = [];
  let results: OpenLoopResult[];
  beforeAll(async () => {
    servers.push(await startTestServer(), await startTestServer({ status: () => 503 }));
    const request = buildInferRequest({ model: "m", format: "json", inputs: [{ name: "x", datatype: "FP32", shape: [1, 4] }] }, 1);
    results = await runInterleavedOpenLoop({
      targets: servers.map((s) => ({ url: s.url, request })),
      slotMs: 100,
      slotOrder: [0, 1, 0, 1],
      ratePerSec: 200,
      arrival: "constant",
      seed: 1,
      maxRequests: 200,
      timeoutMs: 10_000,
      maxConnections: 4,
    });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("the results are what they should be to test with: one target answered, the other only failed", () => {
    expect(results[0]!.summary.ok).toBeGreaterThan(0);
    expect(results[1]!.summary.ok).toBe(0);
    expect(results[1]!.summary.latencyUs.p50).toBeNaN();
  });

  it("carry every summary figure as the open loop reported it, NaN included", () => {
    const back = resultsOf(overTheWire(resultMessage(9, results)) as Extract<GeneratorMessage, { type: "result" }>);
    expect(back.map((r) => r.summary)).toEqual(results.map((r) => r.summary));
    expect(back[1]!.summary.latencyUs.p99).toBeNaN();
    expect(back[1]!.summary.serviceTimeUs.mean).toBeNaN();
  });

  it("carry the histograms: the same counts and percentiles, minimum and maximum to their bucket (as results.json keeps them)", () => {
    const back = resultsOf(overTheWire(resultMessage(9, results)) as Extract<GeneratorMessage, { type: "result" }>);
    for (const [index, result] of results.entries()) {
      for (const name of ["latency", "serviceTime", "pacingError", "clientQueue"] as const) {
        const sent = result.histograms[name];
        const received = back[index]!.histograms[name];
        const { min: sentMin, max: sentMax, ...sentRest } = summarize(sent);
        const { min: receivedMin, max: receivedMax, ...receivedRest } = summarize(received);
        expect([name, receivedRest]).toEqual([name, sentRest]);
        for (const p of [1, 25, 50, 75, 99, 99.99, 100]) expect(received.getValueAtPercentile(p)).toBe(sent.getValueAtPercentile(p));
        // The encoding keeps counts per bucket: 3 significant digits.
        if (sent.totalCount > 0) {
          expect(Math.abs(receivedMin - sentMin)).toBeLessThanOrEqual(sentMin / 1000);
          expect(Math.abs(receivedMax - sentMax)).toBeLessThanOrEqual(sentMax / 1000);
        }
      }
    }
    expect(back[0]!.histograms.latency.totalCount).toBe(results[0]!.summary.ok);
  });
});

describe("LineSplitter", () => {
  it("splits across chunk boundaries and drops blank lines", () => {
    const lines = new LineSplitter();
    expect(lines.push('{"type":"hel')).toEqual([]);
    expect(lines.push('lo"}\n\n{"a":1}\n{"b"')).toEqual(['{"type":"hello"}', '{"a":1}']);
    expect(lines.push(":2}\r\n")).toEqual(['{"b":2}\r']);
    expect(JSON.parse('{"b":2}\r')).toEqual({ b: 2 });
  });
});

describe("the protocol's version", () => {
  it("is a positive integer both sides compare", () => {
    expect(Number.isInteger(REMOTE_PROTOCOL_VERSION) && REMOTE_PROTOCOL_VERSION > 0).toBe(true);
  });
});
