// The reference telemetry sidecar: its queue (buffer, drop, bound, flush), its fault gates
// and exposition as units, and the program itself between a stand-in primary and a
// stand-in backend: bodies forwarded byte for byte, what it holds flushed on SIGTERM (and
// not, under no-flush-on-sigterm). The conformance checks are tested against its fixtures
// in suites/telemetry.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { checkMetrics } from "../../../suites/telemetry/promtool.ts";
import { ExportQueue, type QueuedExport, type SendOutcome } from "./export-queue.mjs";
import { renderExposition } from "./exposition.mjs";
import { createDropGate, createOutageGrowth } from "./faults.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const item = (n: number, bytes = 10): QueuedExport => ({ signal: "traces", path: "/v1/traces", headers: { "content-type": "application/x-protobuf" }, body: Buffer.alloc(bytes, n) });
const until = async (condition: () => boolean, timeoutMs = 3_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return condition();
};

describe("ExportQueue", () => {
  it("buffers while the backend fails and delivers everything, in order, once it answers", async () => {
    const delivered: number[] = [];
    let failuresLeft = 3;
    const events: string[] = [];
    const queue = new ExportQueue({
      send: async (i) => {
        if (failuresLeft-- > 0) return "failed";
        delivered.push(i.body[0]!);
        return "delivered";
      },
      whenDown: "buffer",
      maxBytes: 1_000,
      batchMs: 1,
      retryMinMs: 5,
      retryMaxMs: 10,
      onEvent: (event) => events.push(event),
    });
    for (let n = 1; n <= 5; n++) expect(queue.offer(item(n))).toBe(true);
    expect(await until(() => delivered.length === 5)).toBe(true);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(queue.stats).toMatchObject({ accepted: 5, forwarded: 5, failures: 3, droppedWhileDown: 0 });
    expect(events).toEqual(["backend-down", "backend-up"]);
  });

  it("refuses exports past its bound instead of growing", () => {
    const queue = new ExportQueue({ send: async () => "failed", whenDown: "buffer", maxBytes: 25, batchMs: 60_000 });
    expect([queue.offer(item(1)), queue.offer(item(2)), queue.offer(item(3))]).toEqual([true, true, false]);
    expect(queue.stats.refusedFull).toBe(1);
    void queue.flush(0);
  });

  it("drop: what is queued when an attempt fails is dropped and counted; delivery resumes when the backend answers", async () => {
    let up = false;
    const delivered: number[] = [];
    const queue = new ExportQueue({
      send: async (i) => (up ? (delivered.push(i.body[0]!), "delivered") : "failed"),
      whenDown: "drop",
      maxBytes: 1_000,
      batchMs: 1,
      retryMinMs: 5,
      retryMaxMs: 5,
    });
    queue.offer(item(1));
    queue.offer(item(2));
    expect(await until(() => queue.stats.droppedWhileDown === 2)).toBe(true);
    up = true;
    queue.offer(item(3));
    expect(await until(() => delivered.length === 1)).toBe(true);
    expect(delivered).toEqual([3]);
    expect(queue.length).toBe(0);
  });

  it("a 4xx from the backend is rejected once, not retried", async () => {
    const outcomes: SendOutcome[] = ["rejected", "delivered"];
    const queue = new ExportQueue({ send: async () => outcomes.shift()!, whenDown: "buffer", maxBytes: 1_000, batchMs: 1 });
    queue.offer(item(1));
    queue.offer(item(2));
    expect(await until(() => queue.length === 0)).toBe(true);
    expect(queue.stats).toMatchObject({ rejected: 1, forwarded: 1, failures: 0 });
  });

  it("flush sends what is held at once, and counts what it could not send by the deadline", async () => {
    const sent: number[] = [];
    const held = new ExportQueue({ send: async (i) => (sent.push(i.body[0]!), "delivered"), whenDown: "buffer", maxBytes: 1_000, batchMs: 60_000 });
    held.offer(item(1));
    held.offer(item(2));
    expect(await held.flush(performance.now() + 1_000)).toBe(0);
    expect(sent).toEqual([1, 2]);
    expect(held.offer(item(3))).toBe(false);
    const stuck = new ExportQueue({ send: async () => "failed", whenDown: "buffer", maxBytes: 1_000, batchMs: 60_000, retryMinMs: 5, retryMaxMs: 5 });
    stuck.offer(item(1));
    expect(await stuck.flush(performance.now() + 50)).toBe(1);
    expect(stuck.stats.lostAtExit).toBe(1);
  });

  it("calls the fault hooks on each failed attempt and on the backend's return", async () => {
    let up = false;
    const seen: string[] = [];
    const queue = new ExportQueue({
      send: async () => (up ? "delivered" : "failed"),
      whenDown: "buffer",
      maxBytes: 1_000,
      batchMs: 1,
      retryMinMs: 5,
      retryMaxMs: 5,
      hooks: { onDown: (q) => (seen.push("down"), q.discardAll("test")), onUp: () => seen.push("up") },
    });
    queue.offer(item(1));
    expect(await until(() => seen.includes("down"))).toBe(true);
    expect(queue.length).toBe(0);
    up = true;
    queue.offer(item(2));
    expect(await until(() => seen.includes("up"))).toBe(true);
    await queue.flush(performance.now() + 100);
  });
});

describe("faults", () => {
  it("drop-exports drops exactly one in n of each signal, from its phase", () => {
    const gate = createDropGate(10, { traces: 3, metrics: 0 });
    const dropped = (signal: string) => Array.from({ length: 25 }, (_, i) => i).filter(() => gate.drops(signal));
    expect(dropped("traces")).toEqual([3, 13, 23]);
    expect(dropped("metrics")).toEqual([0, 10, 20]);
    expect(() => createDropGate(0)).toThrow(/--fault-every/);
  });

  it("unbounded-queue-when-down holds memory at its rate while down and lets it go when back", async () => {
    const growth = createOutageGrowth(20, () => undefined);
    growth.onDown();
    await new Promise((r) => setTimeout(r, 350));
    const held = growth.held.reduce((sum, b) => sum + b.length, 0) / 1024 / 1024;
    growth.onUp();
    expect(held).toBeGreaterThanOrEqual(4);
    expect(held).toBeLessThanOrEqual(8);
    expect(growth.held).toHaveLength(0);
  });

  it("invalid-exposition is rejected by promtool; the relay's own exposition is not", async () => {
    const primaryBody = "# HELP kserve_requests_total Counted.\n# TYPE kserve_requests_total counter\nkserve_requests_total{model=\"mlp\",status=\"200\"} 3.0";
    const stats = { scrapesOk: 4, scrapesFailed: 1 };
    expect((await checkMetrics(renderExposition({ primaryBody, stats }))).exitCode).toBe(0);
    const broken = await checkMetrics(renderExposition({ primaryBody, stats, invalid: true }));
    expect(broken.exitCode).toBe(1);
    expect(broken.lines.join(" ")).toMatch(/second HELP line for metric name "telemetry_relay_scrapes_total"/);
  });
});

describe("telemetry-relay between a stand-in primary and backend", () => {
  const started: Array<ChildProcess | Server> = [];
  afterEach(async () => {
    for (const thing of started.splice(0)) {
      if ("kill" in thing) {
        if (thing.exitCode === null) thing.kill("SIGKILL");
      } else thing.close();
    }
  });

  async function backend(): Promise<{ port: number; received: Array<{ path: string; headers: IncomingMessage["headers"]; body: Buffer }> }> {
    const received: Array<{ path: string; headers: IncomingMessage["headers"]; body: Buffer }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    started.push(server);
    return { port: (server.address() as AddressInfo).port, received };
  }

  async function relay(backendPort: number, extra: string[] = []): Promise<{ child: ChildProcess; ingest: number; output: () => string }> {
    const ports = await Promise.all([0, 0].map(async () => {
      const s = createServer().listen(0, "127.0.0.1");
      await once(s, "listening");
      const port = (s.address() as AddressInfo).port;
      s.close();
      return port;
    }));
    const [admin, ingest] = ports as [number, number];
    const child = spawn(process.execPath, [join(here, "telemetry-relay.mjs"), "--admin", String(admin), "--ingest", "otlp", "--listen", String(ingest), "--export", "otlp", "--backend", `http://127.0.0.1:${backendPort}`, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    started.push(child);
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    expect(await until(() => output.includes('"event":"listening"'), 5_000), output).toBe(true);
    return { child, ingest, output: () => output };
  }

  const exportTo = (port: number, path: string, body: Buffer) =>
    request(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { "content-type": "application/x-protobuf", "content-encoding": "gzip" }, body }).then(async (r) => ({ status: r.statusCode, body: await r.body.arrayBuffer() }));

  it("forwards each export byte for byte with its content type and encoding, and flushes what it holds on SIGTERM", async () => {
    const { port, received } = await backend();
    // A batch interval far longer than the test: only the flush on SIGTERM can deliver.
    const { child, ingest } = await relay(port, ["--batch-ms", "60000"]);
    const bodies = [Buffer.from([0x0a, 0x01, 0xff]), Buffer.from("metrics bytes")];
    expect((await exportTo(ingest, "/v1/traces", bodies[0]!)).status).toBe(200);
    expect((await exportTo(ingest, "/v1/metrics", bodies[1]!)).status).toBe(200);
    expect(received).toHaveLength(0);
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(0);
    expect(received.map((r) => [r.path, r.body])).toEqual([
      ["/v1/traces", bodies[0]],
      ["/v1/metrics", bodies[1]],
    ]);
    expect(received[0]!.headers).toMatchObject({ "content-type": "application/x-protobuf", "content-encoding": "gzip" });
  });

  it("no-flush-on-sigterm exits on SIGTERM with what it holds undelivered", async () => {
    const { port, received } = await backend();
    const { child, ingest, output } = await relay(port, ["--batch-ms", "60000", "--fault", "no-flush-on-sigterm"]);
    expect((await exportTo(ingest, "/v1/traces", Buffer.from("x"))).status).toBe(200);
    child.kill("SIGTERM");
    await once(child, "exit");
    expect(received).toHaveLength(0);
    expect(output()).toContain('"event":"exiting-without-flush"');
  });

  it("duplicate-exports forwards every export twice", async () => {
    const { port, received } = await backend();
    const { ingest } = await relay(port, ["--batch-ms", "1", "--fault", "duplicate-exports"]);
    await exportTo(ingest, "/v1/traces", Buffer.from("once"));
    expect(await until(() => received.length === 2)).toBe(true);
    expect(received.map((r) => r.body.toString())).toEqual(["once", "once"]);
  });

  it("refuses bad arguments with exit 2 and a usage line", async () => {
    const child = spawn(process.execPath, [join(here, "telemetry-relay.mjs"), "--admin", "1", "--ingest", "otlp", "--export", "exposition"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(2);
    expect(stderr).toMatch(/--ingest\/--export/);
  });
});
