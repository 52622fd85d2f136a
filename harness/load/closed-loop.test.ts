import { afterEach, describe, expect, it } from "vitest";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { requestBytes, runClosedLoop, type ClosedLoopOptions } from "./closed-loop.ts";
import { startTestServer, type TestServer } from "./fixtures/test-server.ts";
import { buildInferRequest, parseInferRequest, type HttpRequestSpec } from "./kserve-request.ts";

const request = buildInferRequest({ model: "m", format: "binary", inputs: [{ name: "x", datatype: "FP32", shape: [2, 4] }] }, 3);

const servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}
/** A TCP server on 127.0.0.1 that answers in raw bytes (what the HTTP test server cannot send); its URL. */
const rawServers: Array<() => Promise<void>> = [];
async function rawServer(onSocket: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const raw = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  rawServers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => raw.close(resolve));
  });
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
}
afterEach(async () => {
  await Promise.all([...servers.splice(0).map((s) => s.close()), ...rawServers.splice(0).map((close) => close())]);
});

function options(url: string, overrides: Partial<ClosedLoopOptions> = {}): ClosedLoopOptions {
  return { url, request, connections: 4, durationMs: 1000, maxRequests: 1_000_000, timeoutMs: 2000, ...overrides };
}

describe("runClosedLoop", () => {
  it("drives N connections and records a microsecond histogram", async () => {
    const s = await server();
    const { summary, latency } = await runClosedLoop(options(s.url));
    expect(summary.requests).toBeGreaterThan(100);
    expect(summary.ok).toBe(summary.requests);
    expect(latency.totalCount).toBe(summary.ok);
    expect(summary.throughputPerSec).toBeGreaterThan(0);
    expect(summary.durationMs).toBeGreaterThan(900);
    expect(summary.durationMs).toBeLessThan(3000);
    // Whole-millisecond data would put every percentile on a multiple of 1000 µs.
    const { min, p50, p90 } = summary.latencyUs;
    expect([min, p50, p90].some((v) => v % 1000 !== 0)).toBe(true);
    const got = s.lastRequest()!;
    expect(parseInferRequest(got.headers, got.body)).toEqual(parseInferRequest(request.headers, request.body));
  });

  it("hands over every 2xx answer's time: the histogram holds them all and the summary is read from it", async () => {
    const s = await server();
    const { summary, latency } = await runClosedLoop(options(s.url, { connections: 2, durationMs: 60_000, maxRequests: 50 }));
    expect(summary.ok).toBe(50);
    expect(latency.totalCount).toBe(50);
    expect(summary.latencyUs.p50).toBe(latency.getValueAtPercentile(50));
    expect(summary.latencyUs.max).toBe(latency.maxValue);
  });

  it("sends a body larger than a socket buffer whole, every time (writes resumed when the socket drains)", async () => {
    const s = await server();
    const body = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 251;
    const big: HttpRequestSpec = { method: "POST", path: "/v2/models/m/infer", headers: { "content-type": "application/octet-stream" }, body };
    const { summary } = await runClosedLoop(options(s.url, { request: big, connections: 3, durationMs: 60_000, maxRequests: 12 }));
    expect(summary).toMatchObject({ requests: 12, ok: 12, errors: {} });
    expect(s.received()).toBe(12);
    expect(s.lastRequest()!.body.equals(body)).toBe(true);
  });

  it("drops a connection answered before its request was written whole: no request starts behind a cut one", async () => {
    // Answers 413 (keep-alive) at a request's first bytes, as a server refusing a large body early.
    const body = Buffer.alloc(8 * 1024 * 1024, 1);
    const big: HttpRequestSpec = { method: "POST", path: "/upload", headers: {}, body };
    const requestLength = requestBytes(new URL("http://127.0.0.1"), big).length;
    const bytesPerConnection: number[] = [];
    const url = await rawServer((socket) => {
      const index = bytesPerConnection.push(0) - 1;
      socket.on("data", (data: Buffer) => {
        if (bytesPerConnection[index] === 0) socket.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");
        bytesPerConnection[index]! += data.length;
      });
    });
    const { summary } = await runClosedLoop(options(url, { request: big, connections: 2, durationMs: 10_000, maxRequests: 6 }));
    expect(summary.errors).toEqual({ "413": 6 });
    expect(bytesPerConnection.length).toBeGreaterThanOrEqual(6);
    // Each connection carried at most the one request it was answered on.
    expect(Math.max(...bytesPerConnection)).toBeLessThanOrEqual(requestLength);
  });

  it("replaces a connection once per answer delimited by its close: one connection per request", async () => {
    // No Content-Length: each answer ends when the server closes (RFC 9112 §6.3 item 7).
    let accepted = 0;
    let requests = 0;
    const url = await rawServer((socket) => {
      accepted++;
      socket.on("data", (data: Buffer) => {
        if (!data.includes("\r\n\r\n")) return;
        requests++;
        socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello");
      });
    });
    const { summary } = await runClosedLoop(options(url, { request: undefined, connections: 1, durationMs: 10_000, maxRequests: 40 }));
    expect(summary).toMatchObject({ requests: 40, ok: 40, errors: {} });
    expect(requests).toBe(40);
    // A connection opened and dropped again without a request (a replace done twice) shows here.
    expect(accepted).toBeLessThanOrEqual(41);
  });

  it("counts a malformed answer as a connection error and carries on with a new connection", async () => {
    // Every other request is answered with garbage, the rest properly.
    let requests = 0;
    const url = await rawServer((socket) => {
      socket.on("data", (data: Buffer) => {
        if (!data.includes("\r\n\r\n")) return;
        const bad = requests++ % 2 === 0;
        socket.write(bad ? "SSH-2.0-OpenSSH\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      });
    });
    const { summary } = await runClosedLoop(options(url, { request: undefined, connections: 1, durationMs: 10_000, maxRequests: 6 }));
    expect(summary.ok).toBe(3);
    expect(summary.errors).toEqual({ connection: 3 });
    expect(requests).toBe(6);
  });

  it("stops at maxRequests", async () => {
    const s = await server();
    const { summary } = await runClosedLoop(options(s.url, { durationMs: 60_000, maxRequests: 200 }));
    expect(summary.requests).toBe(200);
    expect(s.received()).toBe(200);
  });

  it("counts non-2xx responses by status", async () => {
    const s = await server({ status: (n) => (n % 4 === 3 ? 503 : 200) });
    const { summary } = await runClosedLoop(options(s.url, { durationMs: 60_000, maxRequests: 200 }));
    expect(summary.errors).toEqual({ "503": 50 });
    expect(summary.ok).toBe(150);
    expect(summary.non2xx).toBe(50);
  });

  it("ends by itself against a server that never answers, counting timeouts", async () => {
    const s = await server({ neverAnswer: true });
    const t0 = performance.now();
    const { summary } = await runClosedLoop(options(s.url, { durationMs: 1500, timeoutMs: 1000 }));
    expect(performance.now() - t0).toBeLessThan(1500 + 1000 + 1500);
    expect(summary.requests).toBe(0);
    expect(summary.errors["timeout"]).toBeGreaterThanOrEqual(1);
  });

  it("stops early when its signal aborts", async () => {
    const s = await server({ delayMs: 1 });
    const t0 = performance.now();
    const { summary } = await runClosedLoop(options(s.url, { durationMs: 60_000, signal: AbortSignal.timeout(300) }));
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(summary.requests).toBeGreaterThan(0);
  });

  it("counts a request whose connection closed without an answer as a connection error", async () => {
    // Reads each request's head, then FINs: no response byte ever comes back.
    let heads = 0;
    const url = await rawServer((socket) => {
      let seen = "";
      socket.on("data", (data: Buffer) => {
        seen += data.toString("latin1");
        if (seen.includes("\r\n\r\n")) {
          heads++;
          socket.end();
        }
      });
    });
    const { summary } = await runClosedLoop(options(url, { connections: 1, durationMs: 10_000, maxRequests: 5 }));
    expect(summary.requests).toBe(0);
    expect(summary.errors).toEqual({ connection: 5 });
    expect(heads).toBe(5);
  });

  it("refuses a remote target and bad bounds", async () => {
    await expect(runClosedLoop(options("http://192.168.0.10"))).rejects.toThrow(/refusing to send load/);
    await expect(runClosedLoop(options("http://127.0.0.1:1", { maxRequests: 2 }))).rejects.toThrow(/maxRequests.*connections/);
  });
});
