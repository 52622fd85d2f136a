// Against an in-process server on 127.0.0.1. Assertions are about counts, ratios and
// structure with generous margins: this runs on a noisy 2-core machine.
import { afterEach, describe, expect, it } from "vitest";
import { performance } from "node:perf_hooks";
import { runClosedLoop } from "./closed-loop.ts";
import { startTestServer, type TestServer } from "./fixtures/test-server.ts";
import { buildInferRequest, parseInferRequest } from "./kserve-request.ts";
import { totalErrors } from "./load-errors.ts";
import { runInterleavedOpenLoop, runOpenLoop, type OpenLoopOptions, type RequestOutcome } from "./open-loop.ts";

const request = buildInferRequest({ model: "m", format: "json", inputs: [{ name: "x", datatype: "FP32", shape: [1, 8] }] }, 1);

const servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function options(url: string, overrides: Partial<OpenLoopOptions> = {}): OpenLoopOptions {
  return {
    url,
    request,
    ratePerSec: 200,
    arrival: "constant",
    seed: 1,
    durationMs: 1000,
    maxRequests: 100_000,
    timeoutMs: 2000,
    maxConnections: 8,
    ...overrides,
  };
}

describe("runOpenLoop", () => {
  it("sends on schedule and reaches the target rate", async () => {
    const s = await server();
    const { summary, histograms } = await runOpenLoop(options(s.url, { ratePerSec: 500, durationMs: 2000 }));
    expect(summary.stoppedBy).toBe("duration");
    expect(summary.scheduled).toBe(1000);
    expect(summary.sent).toBe(1000);
    expect(summary.ok).toBe(1000);
    expect(s.received()).toBe(1000);
    // The achieved rate also charges how late the last request reached the wire.
    expect(summary.achievedRatePerSec).toBeLessThanOrEqual(500);
    expect(summary.achievedRatePerSec).toBeGreaterThan(500 * 0.98);
    expect(summary.sendLagMs).toBeLessThan(40);
    expect(summary.rateShortfall).toBe(false);
    expect(summary.errors).toEqual({});
    expect(histograms.latency.totalCount).toBe(1000);
    expect(histograms.serviceTime.totalCount).toBe(1000);
    expect(histograms.pacingError.totalCount).toBe(1000);
    // Generous: the typical pacing error is microseconds; 5 ms would mean pacing is broken.
    expect(summary.pacingErrorUs.p50).toBeLessThan(5000);
    // Latency counts from the scheduled time, so it is never below the service time.
    expect(summary.latencyUs.p50).toBeGreaterThanOrEqual(summary.serviceTimeUs.p50);
    expect(summary.durationMs).toBeGreaterThan(1990);
    expect(summary.durationMs).toBeLessThan(2000 + 2000);
    expect(JSON.parse(JSON.stringify(summary))).toMatchObject({ kind: "open-loop", scheduled: 1000 });
  });

  it("sends Poisson arrivals from the seeded schedule", async () => {
    const s = await server();
    const { summary } = await runOpenLoop(options(s.url, { ratePerSec: 400, arrival: "poisson", seed: 7, durationMs: 2000 }));
    // 800 expected; the count of a Poisson process has sd √800 ≈ 28.
    expect(Math.abs(summary.scheduled - 800)).toBeLessThan(150);
    expect(summary.ok).toBe(summary.scheduled);
    expect(summary.rateShortfall).toBe(false);
    const again = await runOpenLoop(options(s.url, { ratePerSec: 400, arrival: "poisson", seed: 7, durationMs: 2000 }));
    expect(again.summary.scheduled).toBe(summary.scheduled);
  });

  it("stops at maxRequests and measures the rate over the window it used", async () => {
    const s = await server();
    const { summary } = await runOpenLoop(options(s.url, { ratePerSec: 1000, durationMs: 60_000, maxRequests: 150 }));
    expect(summary.stoppedBy).toBe("maxRequests");
    expect(summary.scheduled).toBe(150);
    expect(summary.sendWindowMs).toBeCloseTo(150, 6);
    expect(summary.scheduledRatePerSec).toBeCloseTo(1000, 6);
    expect(summary.achievedRatePerSec).toBeGreaterThan(800);
    expect(summary.durationMs).toBeLessThan(5000);
  });

  it("counts errors by status and flags the shortfall", async () => {
    const s = await server({ status: (n) => (n % 4 === 3 ? 503 : n % 10 === 9 ? 404 : 200) });
    const { summary, histograms } = await runOpenLoop(options(s.url, { ratePerSec: 200, durationMs: 1000 }));
    // n in 0..199: 50 with n % 4 = 3; n % 10 = 9 and n % 4 ≠ 3 for 10 of the 20.
    expect(summary.errors).toEqual({ "503": 50, "404": 10 });
    expect(summary.completed).toBe(200);
    expect(summary.ok).toBe(140);
    expect(histograms.latency.totalCount).toBe(140);
    expect(summary.rateShortfallPct).toBeGreaterThanOrEqual(30);
    expect(summary.rateShortfallPct).toBeLessThan(32);
    expect(summary.rateShortfall).toBe(true);
  });

  it("reports every scheduled request's time and fate, in the same counts as the summary", async () => {
    const s = await server({ status: (n) => (n % 5 === 4 ? 503 : 200) });
    const outcomes: RequestOutcome[] = [];
    const began = performance.now();
    const { summary } = await runOpenLoop(options(s.url, { ratePerSec: 100, durationMs: 500, onOutcome: (o) => outcomes.push(o) }));
    expect(outcomes).toHaveLength(summary.scheduled);
    expect(outcomes.filter((o) => o.error === null)).toHaveLength(summary.ok);
    expect(outcomes.filter((o) => o.error === "503").every((o) => o.status === 503)).toBe(true);
    expect(outcomes.filter((o) => o.error === "503")).toHaveLength(summary.errors["503"]!);
    const times = outcomes.map((o) => o.scheduledAtMs).sort((a, b) => a - b);
    expect(times[0]!).toBeGreaterThanOrEqual(began);
    expect(times.at(-1)! - times[0]!).toBeLessThan(500);
    expect(outcomes.every((o) => o.latencyMs > 0)).toBe(true);
  });

  it("flags a run whose requests piled up in the client, even though all succeeded", async () => {
    // One connection to a 20 ms server carries at most 50 req/s; 200 req/s are scheduled.
    const s = await server({ delayMs: 20 });
    const { summary } = await runOpenLoop(options(s.url, { ratePerSec: 200, durationMs: 500, maxConnections: 1, timeoutMs: 10_000 }));
    expect(summary.ok).toBe(100);
    expect(summary.errors).toEqual({});
    expect(summary.sendLagMs).toBeGreaterThan(500);
    expect(summary.clientQueueUs.p99).toBeGreaterThan(500_000);
    expect(summary.rateShortfall).toBe(true);
    expect(summary.achievedRatePerSec).toBeLessThan(100);
  });

  it("counts refused connections", async () => {
    const s = await startTestServer();
    const url = s.url;
    await s.close();
    const { summary } = await runOpenLoop(options(url, { ratePerSec: 100, durationMs: 300 }));
    expect(summary.errors).toEqual({ connection: 30 });
    expect(summary.ok).toBe(0);
  });

  it("ends by itself after durationMs + timeoutMs when the server never answers", async () => {
    const s = await server({ neverAnswer: true });
    const t0 = performance.now();
    const { summary } = await runOpenLoop(options(s.url, { ratePerSec: 50, durationMs: 600, timeoutMs: 400, maxConnections: 4 }));
    const wallMs = performance.now() - t0;
    expect(summary.scheduled).toBe(30);
    expect(summary.errors).toEqual({ timeout: 30 });
    expect(summary.completed).toBe(0);
    expect(summary.rateShortfallPct).toBe(100);
    // The last request is due at 580 ms and times out 400 ms later.
    expect(summary.durationMs).toBeGreaterThanOrEqual(950);
    expect(wallMs).toBeLessThan(600 + 400 + 1500);
  });

  it("stops promptly when its signal aborts, cancelling what is in flight", async () => {
    const s = await server({ neverAnswer: true });
    const t0 = performance.now();
    const { summary } = await runOpenLoop(options(s.url, { ratePerSec: 100, durationMs: 30_000, timeoutMs: 30_000, signal: AbortSignal.timeout(300) }));
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(summary.stoppedBy).toBe("signal");
    expect(summary.sent).toBeGreaterThan(5);
    expect(summary.errors).toEqual({ aborted: summary.sent });
    expect(summary.sendWindowMs).toBeLessThan(3000);
  });

  it("refuses a remote target without sending anything", async () => {
    await expect(runOpenLoop(options("http://10.1.2.3:8080"))).rejects.toThrow(/refusing to send load to 10\.1\.2\.3/);
    await expect(runOpenLoop(options("http://example.com"))).rejects.toThrow(/refusing/);
  });

  it("rejects unbounded or invalid options", async () => {
    await expect(runOpenLoop(options("http://127.0.0.1:1", { maxRequests: 0 }))).rejects.toThrow(/maxRequests/);
    await expect(runOpenLoop(options("http://127.0.0.1:1", { durationMs: Infinity }))).rejects.toThrow(/durationMs/);
  });

  it("delivers the body intact (binary tensors)", async () => {
    const s = await server();
    const binary = buildInferRequest({ model: "m", format: "binary", inputs: [{ name: "x", datatype: "INT64", shape: [3, 5] }] }, 5);
    const { summary } = await runOpenLoop(options(s.url, { request: binary, ratePerSec: 50, durationMs: 100 }));
    expect(summary.ok).toBe(5);
    const got = s.lastRequest()!;
    expect(got.url).toBe("/v2/models/m/infer");
    expect(got.body.equals(binary.body)).toBe(true);
    expect(parseInferRequest(got.headers, got.body)).toEqual(parseInferRequest(binary.headers, binary.body));
  });

  it("reports progress", async () => {
    const s = await server();
    const seen: number[] = [];
    await runOpenLoop(options(s.url, { durationMs: 2200, onProgress: (p) => seen.push(p.sent) }));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[1]!).toBeGreaterThan(seen[0]!);
  });
});

describe("coordinated omission", () => {
  // The server holds every response due in a 200 ms window starting 500 ms into the run,
  // like a GC pause. At 400 req/s about 80 requests are scheduled during it.
  const stall = { afterMs: 500, forMs: 200 };

  it("open loop: the stall shows in the latency of requests scheduled during it, not in service time", async () => {
    const s = await server({ delayMs: 1, stall });
    const { summary, histograms } = await runOpenLoop(
      options(s.url, { ratePerSec: 400, durationMs: 2000, maxConnections: 4, timeoutMs: 5000 }),
    );
    expect(summary.ok).toBe(800);
    // Requests due at 500..650 ms wait ≥ 50 ms: ~60 of 800 (7.5%), so p95 lies among them
    // while p80 stays with the undisturbed majority.
    expect(histograms.latency.getValueAtPercentile(95)).toBeGreaterThan(50_000);
    expect(histograms.latency.getValueAtPercentile(80)).toBeLessThan(30_000);
    expect(summary.latencyUs.p99).toBeGreaterThan(100_000);
    // Only the ≤ 4 requests on a connection during the stall have a long service time;
    // the rest waited in the client queue, which is latency, not service.
    expect(summary.serviceTimeUs.p99).toBeLessThan(summary.latencyUs.p99 / 3);
  });

  it("closed loop: the same stall touches only one request per connection", async () => {
    const s = await server({ delayMs: 1, stall });
    const { summary, latency } = await runClosedLoop({
      url: s.url,
      request,
      connections: 4,
      durationMs: 2000,
      maxRequests: 1_000_000,
      timeoutMs: 5000,
    });
    expect(summary.ok).toBeGreaterThan(400);
    expect(latency.maxValue).toBeGreaterThan(100_000); // it did see the stall...
    expect(summary.latencyUs.p99).toBeLessThan(50_000); // ...in a handful of requests only
    expect(totalErrors(summary.errors)).toBe(0);
  });
});

describe("runInterleavedOpenLoop", () => {
  it("sends each slot's requests to its target only, at the target rate while the slot is open", async () => {
    const fast = await server();
    const slow = await server({ delayMs: 5 });
    const results = await runInterleavedOpenLoop({
      ...options(""),
      ratePerSec: 200,
      targets: [{ url: fast.url, request }, { url: slow.url, request }],
      slotMs: 100,
      slotOrder: [0, 1, 1, 0, 0, 1, 1, 0, 0, 1],
    });
    const [a, b] = results.map((r) => r.summary);
    // 10 slots of 100 ms at 200 req/s, constant arrivals: 20 requests per slot.
    expect(a!.scheduled).toBe(100);
    expect(b!.scheduled).toBe(100);
    expect(fast.received()).toBe(100);
    expect(slow.received()).toBe(100);
    // Rates are judged on each target's own open slots (500 ms), so no false shortfall.
    expect(a!.sendWindowMs).toBe(500);
    expect(a!.rateShortfall).toBe(false);
    expect(b!.rateShortfall).toBe(false);
    // Each target's histograms hold only its own requests.
    expect(results[0]!.histograms.latency.totalCount).toBe(100);
    expect(b!.serviceTimeUs.p50).toBeGreaterThan(a!.serviceTimeUs.p50 + 3_000);
  });

  it("refuses a slot order naming a target that does not exist", async () => {
    await expect(
      runInterleavedOpenLoop({ ...options(""), targets: [{ url: "http://127.0.0.1:9", request }], slotMs: 100, slotOrder: [0, 1] }),
    ).rejects.toThrow(/slotOrder must hold target indices 0..0/);
  });
});
