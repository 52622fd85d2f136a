// The reference proxy sidecar and its faulty fixtures, in real pods with the reference
// primary: good-proxy forwards faithfully (bodies, headers, token streams, errors,
// concurrency, drain), and each fault shows the one symptom it exists for. The
// conformance checks themselves are tested against these fixtures in suites/.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext, type ScopedContext } from "../../../harness/conformance/conformance-context.ts";
import type { PodOptions } from "../../../harness/conformance/conformance-test.ts";
import { buildInferRequest, INFERENCE_HEADER_LENGTH, type HttpRequestSpec } from "../../../harness/load/kserve-request.ts";
import { LocalRuntime } from "../../../harness/runtime/local/local-runtime.ts";
import type { StartedPod } from "../../../harness/runtime/pod-runtime.ts";
import { loadManifest, type LoadedManifest, type PrimaryManifest } from "../../../harness/scenario/index.ts";
import { FAULTS } from "./faults/index.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const sidecarsDir = resolve(here, "..");
const repo = resolve(here, "../../..");
const proxyScript = join(here, "fault-proxy.mjs");
const faultNames = Object.keys(FAULTS);

// The default state root on purpose: test files that reap orphans concurrently treat runs
// without an owner file in their own state root as dead.
const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-fault-proxy-")), extraPath: [join(repo, ".venv/bin")] });
const runId = `fault-proxy-${process.pid}-${Date.now()}`;
const stateDir = mkdtempSync(join(tmpdir(), "sb-fault-state-"));
let primary: LoadedManifest<PrimaryManifest>;

beforeAll(async () => {
  // Restart markers of the proxies this file starts go to a directory it removes after.
  process.env.FAULT_STATE_DIR = stateDir;
  primary = await loadManifest(join(repo, "reference/primaries/fastapi-kserve/primary.yaml"), "Primary");
});

afterAll(async () => {
  await runtime.stopAll();
  delete process.env.FAULT_STATE_DIR;
  rmSync(stateDir, { recursive: true, force: true });
});

interface FixturePod {
  pod: StartedPod;
  entry: string;
  direct: string;
  admin: string;
  name: string;
  scoped: ScopedContext;
}

async function startFixture(name: string, options: PodOptions = {}): Promise<FixturePod> {
  const sidecar = await loadManifest(join(sidecarsDir, `${name}.yaml`), "Sidecar");
  const scoped = createContext({ sidecar, primary, runtime, runId });
  try {
    const pod = await scoped.context.startPod(options);
    // `name` may be a path under reference/sidecars (partial/…); the container is the manifest's name.
    const container = sidecar.manifest.metadata.name;
    return { pod, name: container, scoped, entry: scoped.context.entryUrl(pod), direct: scoped.context.directUrl(pod), admin: pod.url(container, "admin") };
  } catch (error) {
    await scoped.close();
    throw error;
  }
}

/** Starts a fixture pod for one test and always stops it. */
async function withFixture<T>(name: string, fn: (fixture: FixturePod) => Promise<T>, options: PodOptions = {}): Promise<T> {
  const fixture = await startFixture(name, options);
  try {
    return await fn(fixture);
  } finally {
    await fixture.scoped.close();
  }
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function send(base: string, spec: { path: string; method?: string; headers?: Record<string, string>; body?: Buffer | string }, timeoutMs = 10_000): Promise<Reply> {
  const response = await request(`${base}${spec.path}`, {
    method: (spec.method ?? "GET") as "GET",
    headers: spec.headers ?? {},
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}

const sendSpec = (base: string, spec: HttpRequestSpec) => send(base, spec);

/** Arrival time (ms since the request was sent) of each SSE event of a token stream. */
async function streamTimes(base: string, tokens: number, intervalMs: number, timeoutMs = 10_000): Promise<{ status: number; atMs: number[]; final: boolean }> {
  const began = performance.now();
  const response = await request(`${base}/v2/models/mlp/generate_stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text_input: "fault proxy", parameters: { max_tokens: tokens, token_interval_ms: intervalMs } }),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const atMs: number[] = [];
  let text = "";
  let final = false;
  for await (const chunk of response.body) {
    text += (chunk as Buffer).toString("utf8");
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const event = text.slice(0, end);
      text = text.slice(end + 2);
      if (!event.startsWith("data:")) continue;
      atMs.push(performance.now() - began);
      final ||= (JSON.parse(event.slice(5)) as { final?: boolean }).final === true;
    }
  }
  return { status: response.statusCode, atMs, final };
}

const jsonInfer = buildInferRequest({ model: "mlp", format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [2, 64] }] }, 7);
const binaryInfer = buildInferRequest({ model: "mlp", format: "binary", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [2, 64] }] }, 8);
const echo = (headers: Record<string, string>, body: Buffer | string = "{}") => ({ path: "/v2/debug/echo", method: "POST", headers: { "content-type": "application/json", ...headers }, body });
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** Opens `count` TCP connections to `base`, then sends one request on each: how many got an answer. */
async function answeredOnConnections(base: string, count: number): Promise<number> {
  const { hostname, port } = new URL(base);
  const opened = await Promise.all(
    Array.from({ length: count }, () => new Promise<{ socket: Socket; closed: Promise<void> }>((done, fail) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => done({ socket, closed }));
      // Listened for from the start: a server that drops the connection may do so at once.
      const closed = new Promise<void>((closedNow) => socket.once("close", () => closedNow()));
      socket.once("error", fail);
    })),
  );
  // Give the server a moment to accept (or drop) every connection before any request goes.
  await sleep(100);
  const answers = await Promise.all(
    opened.map(({ socket, closed }) => new Promise<boolean>((done) => {
      let data = "";
      const timer = setTimeout(() => done(false), 3_000);
      socket.on("data", (chunk: Buffer) => {
        data += chunk.toString("latin1");
        if (data.startsWith("HTTP/1.1 200")) {
          clearTimeout(timer);
          done(true);
        }
      });
      void closed.then(() => {
        clearTimeout(timer);
        done(data.startsWith("HTTP/1.1 200"));
      });
      socket.on("error", () => undefined);
      if (!socket.destroyed) socket.write(`GET /v2/health/ready HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    })),
  );
  for (const { socket } of opened) socket.destroy();
  return answers.filter(Boolean).length;
}

/** Sends raw bytes on a new connection and returns everything the server sent until it closed. */
function rawExchange(base: string, text: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((done, fail) => {
    let data = "";
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(text));
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.once("error", fail);
    socket.once("close", () => done(data));
  });
}

/** Resolves true once a TCP connection to `base` is accepted, false after timeoutMs. */
async function waitForListener(base: string, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(base);
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const ok = await new Promise<boolean>((done) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.destroy();
        done(true);
      });
      socket.once("error", () => done(false));
    });
    if (ok) return true;
    await sleep(20);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function sidecarStatus(fixture: FixturePod) {
  return fixture.pod.status().find((c) => c.name === fixture.name)!;
}

/** Polls `condition` every 10 ms; throws naming `what` if it does not hold within timeoutMs. */
async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

/** Kills the sidecar and resolves once the runtime has spawned its replacement. */
async function crashSidecar(fixture: FixturePod): Promise<number> {
  const before = sidecarStatus(fixture);
  fixture.pod.signal(fixture.name, "SIGKILL");
  const killedAt = performance.now();
  await waitUntil(`${fixture.name} is restarted`, () => {
    const now = sidecarStatus(fixture);
    return now.restartCount > before.restartCount && now.pid !== before.pid && now.state !== "exited";
  }, 5_000);
  return killedAt;
}

function startedLines(fixture: FixturePod): Array<{ restart?: { restart: boolean; starts: number } }> {
  return fixture.pod
    .logs(fixture.name, 200)
    .filter((line) => line.includes('"event":"started"'))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as { restart?: { restart: boolean; starts: number } });
}

async function cpuMs(fixture: FixturePod): Promise<number> {
  return (await fixture.pod.stats(fixture.name)).cpuUsageUs / 1_000;
}

async function memoryMiB(fixture: FixturePod): Promise<number> {
  return (await fixture.pod.stats(fixture.name)).memoryBytes / 1024 / 1024;
}

// ---------------------------------------------------------------- manifests

describe("fixture manifests", () => {
  it("one valid Sidecar manifest per fault, plus good-proxy, each running its own fault", async () => {
    // The other roles' fixtures (telemetry-relay, log-follower, secret-agent) live beside these.
    const runsFaultProxy = (f: string) => readFileSync(join(sidecarsDir, f), "utf8").includes("fault-proxy/fault-proxy.mjs");
    const files = readdirSync(sidecarsDir).filter((f) => f.endsWith(".yaml") && runsFaultProxy(f)).sort();
    expect(files).toEqual([...faultNames, "good-proxy"].map((n) => `${n}.yaml`).sort());
    const readme = readFileSync(join(sidecarsDir, "README.md"), "utf8");
    for (const file of files) {
      const { manifest } = await loadManifest(join(sidecarsDir, file), "Sidecar");
      const name = basename(file, ".yaml");
      expect(manifest.metadata.name).toBe(name);
      const command = manifest.spec.container.command;
      expect(command.slice(0, 2)).toEqual(["node", "fault-proxy/fault-proxy.mjs"]);
      const faults = command.flatMap((arg, i) => (command[i - 1] === "--fault" ? [arg] : []));
      expect(faults).toEqual(name === "good-proxy" ? [] : [name]);
      expect(manifest.spec.features).toHaveLength(6);
      if (name !== "good-proxy") {
        const breaks = FAULTS[name]!.breaks;
        expect(readme).toContain(`| \`${name}\` |`);
        expect(readme).toMatch(new RegExp(`\\| \`${name}\` \\|[^\\n]*\`${breaks.replace(".", "\\.")}\``));
      }
    }
  });
});

// ---------------------------------------------------------------- the good proxy

describe("good-proxy", () => {
  let good: FixturePod;
  beforeAll(async () => {
    good = await startFixture("good-proxy");
  });
  afterAll(async () => {
    await good?.scoped.close();
  });

  it("forwards JSON and binary infer requests byte for byte", async () => {
    for (const spec of [jsonInfer, binaryInfer]) {
      const [direct, via] = await Promise.all([sendSpec(good.direct, spec), sendSpec(good.entry, spec)]);
      expect(direct.status).toBe(200);
      expect(via.status).toBe(200);
      expect(via.headers["content-type"]).toBe(direct.headers["content-type"]);
      expect(via.headers[INFERENCE_HEADER_LENGTH.toLowerCase()]).toBe(direct.headers[INFERENCE_HEADER_LENGTH.toLowerCase()]);
      expect(via.body.equals(direct.body)).toBe(true);
    }
  });

  it("passes end-to-end headers both ways, traceparent included, and drops hop-by-hop ones", async () => {
    const reply = await send(good.entry, echo({ traceparent: TRACEPARENT, tracestate: "sb=1", "x-request-id": "r-42", "x-custom": "kept" }));
    expect(reply.status).toBe(200);
    expect(reply.headers["x-echo-traceparent"]).toBe(TRACEPARENT);
    expect(reply.headers["x-echo-tracestate"]).toBe("sb=1");
    expect(reply.headers["x-echo-x-request-id"]).toBe("r-42");
    expect(reply.headers["x-echo-x-custom"]).toBe("kept");
    expect(reply.body.toString()).toBe("{}");
    // HTTP clients guard the Connection header: a raw request names a hop-by-hop header in it.
    const raw = await rawExchange(good.entry, "POST /v2/debug/echo HTTP/1.1\r\nHost: sb\r\nConnection: close, x-hop\r\nX-Hop: dropped\r\nKeep-Alive: timeout=9\r\nX-End: kept\r\nContent-Length: 2\r\n\r\n{}");
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toMatch(/\r\nx-echo-x-end: kept\r\n/i);
    expect(raw).not.toMatch(/x-echo-x-hop|x-echo-keep-alive/i);
  });

  it("streams SSE tokens as they come", async () => {
    const { status, atMs, final } = await streamTimes(good.entry, 6, 150);
    expect(status).toBe(200);
    expect(atMs).toHaveLength(6);
    expect(final).toBe(true);
    // Buffered, all six would arrive together at the end.
    expect(atMs[5]! - atMs[0]!).toBeGreaterThan(500);
    expect(atMs[0]!).toBeLessThan(atMs[5]! - 500);
  });

  it("keeps upstream errors: status and body", async () => {
    for (const path of ["/v2/models/nope", "/v2/models/nope/infer"]) {
      const method = path.endsWith("/infer") ? "POST" : "GET";
      const [direct, via] = await Promise.all([send(good.direct, { path, method, body: method === "POST" ? "{}" : undefined }), send(good.entry, { path, method, body: method === "POST" ? "{}" : undefined })]);
      expect(direct.status).toBe(404);
      expect(via.status).toBe(404);
      expect(via.body.equals(direct.body)).toBe(true);
    }
  });

  it("passes a 16 MiB body intact", async () => {
    const body = Buffer.alloc(16 * 1024 * 1024 + 7, 0x41);
    body.write("tail", body.length - 4);
    const reply = await send(good.entry, { path: "/v2/debug/echo", method: "POST", headers: { "content-type": "application/octet-stream" }, body }, 20_000);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(body)).toBe(true);
  });

  it("serves many concurrent keep-alive connections", async () => {
    expect(await answeredOnConnections(good.entry, 24)).toBe(24);
  });

  it("reports /ready and /stats on its admin port", async () => {
    const ready = await send(good.admin, { path: "/ready" });
    expect(ready.status).toBe(200);
    const stats = JSON.parse((await send(good.admin, { path: "/stats" })).body.toString()) as { requests: number; faults: string[] };
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.faults).toEqual([]);
  });

  it("serves again right after a crash, and refuses (fast) while down", async () => {
    await crashSidecar(good);
    await waitUntil("good-proxy is ready again", () => sidecarStatus(good).ready, 5_000);
    expect((await send(good.entry, { path: "/v2/debug/pid" }, 2_000)).status).toBe(200);
  });
});

describe("good-proxy stop", () => {
  it("keeps forwarding until the primary has drained, then exits 0 on SIGTERM", async () => {
    const fixture = await startFixture("good-proxy", { terminationGracePeriodMs: 8_000 });
    try {
      const stream = streamTimes(fixture.entry, 15, 100);
      await sleep(250);
      const stopped = await fixture.pod.stop();
      const result = await stream;
      expect(result.atMs).toHaveLength(15);
      expect(result.final).toBe(true);
      const sidecar = stopped.containers.find((c) => c.name === "good-proxy")!;
      expect(sidecar).toMatchObject({ killed: false, exitCode: 0 });
      expect(fixture.pod.logs("good-proxy", 5).join("\n")).toMatch(/"event":"exiting".*"reason":"drained"/);
    } finally {
      await fixture.scoped.close();
    }
  });
});

describe("fault-proxy process", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill("SIGKILL");
  });

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((done) => server.close(() => done()));
    return port;
  }

  it("answers 502 with a JSON error when the upstream is unreachable, and rejects bad arguments", async () => {
    const [listen, admin, upstream] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, [proxyScript, "--listen", String(listen), "--admin", String(admin), "--upstream", String(upstream)], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    expect(await waitForListener(`http://127.0.0.1:${listen}`, 5_000)).toBe(true);
    const reply = await send(`http://127.0.0.1:${listen}`, { path: "/v2/health/ready" });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body.toString())).toEqual({ error: expect.stringMatching(/ECONNREFUSED/) });
    child.kill("SIGTERM");
    expect(await new Promise((done) => child.once("exit", (code) => done(code)))).toBe(0);

    const bad = spawn(process.execPath, [proxyScript, "--listen", "1", "--admin", "2", "--upstream", "3", "--fault", "no-such-fault"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(bad);
    let stderr = "";
    bad.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((done) => bad.once("exit", (code) => done(code)))).toBe(2);
    expect(stderr).toMatch(/unknown fault "no-such-fault"[\s\S]*faults: drop-header, /);
  });

  it("rejects a partial fault without a fault to gate, a bad rate and an unknown condition", async () => {
    const ports = ["--listen", "1", "--admin", "2", "--upstream", "3"];
    for (const [args, message] of [
      [["--fault-every", "10"], /--fault-every and --fault-when need a --fault to act on/],
      [["--fault", "mask-errors", "--fault-every", "0"], /--fault-every: expected a whole number ≥ 1, got 0/],
      [["--fault", "mask-errors", "--fault-when", "sometimes"], /--fault-when: unknown condition "sometimes"; expected one of fresh-connection, chunked-request, status-5xx, first-start/],
    ] as const) {
      const bad = spawn(process.execPath, [proxyScript, ...ports, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      children.push(bad);
      let stderr = "";
      bad.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await new Promise((done) => bad.once("exit", (code) => done(code)))).toBe(2);
      expect(stderr).toMatch(message);
    }
  });
});

// ---------------------------------------------------------------- faults of the request path

describe("request-path faults", () => {
  it("drop-header: traceparent does not reach the primary; other headers do", async () => {
    await withFixture("drop-header", async ({ entry }) => {
      const reply = await send(entry, echo({ traceparent: TRACEPARENT, "x-request-id": "r-1" }));
      expect(reply.status).toBe(200);
      expect(reply.headers["x-echo-traceparent"]).toBeUndefined();
      expect(reply.headers["x-echo-x-request-id"]).toBe("r-1");
    });
  });

  it("restart-trace: the primary gets a new trace-id and no tracestate", async () => {
    await withFixture("restart-trace", async ({ entry }) => {
      const reply = await send(entry, echo({ traceparent: TRACEPARENT, tracestate: "sb=1" }));
      const received = String(reply.headers["x-echo-traceparent"]);
      expect(received).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(received.split("-")[1]).not.toBe(TRACEPARENT.split("-")[1]);
      expect(reply.headers["x-echo-tracestate"]).toBeUndefined();
    });
  });

  it("unsample-trace: the same traceparent with the sampled flag cleared, tracestate untouched", async () => {
    await withFixture("unsample-trace", async ({ entry }) => {
      const reply = await send(entry, echo({ traceparent: TRACEPARENT, tracestate: "sb=1" }));
      expect(reply.headers["x-echo-traceparent"]).toBe(TRACEPARENT.replace(/-01$/, "-00"));
      expect(reply.headers["x-echo-tracestate"]).toBe("sb=1");
    });
  });

  it("rewrite-json: JSON infer bodies differ (numbers with 6 digits), binary ones do not", async () => {
    await withFixture("rewrite-json", async ({ entry, direct }) => {
      const [d, v] = await Promise.all([sendSpec(direct, jsonInfer), sendSpec(entry, jsonInfer)]);
      expect(v.status).toBe(200);
      expect(v.body.equals(d.body)).toBe(false);
      const values = (body: Buffer) => (JSON.parse(body.toString()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;
      values(v.body).forEach((x, i) => expect(x).toBeCloseTo(values(d.body)[i]!, 5));
      const [db, vb] = await Promise.all([sendSpec(direct, binaryInfer), sendSpec(entry, binaryInfer)]);
      expect(vb.body.equals(db.body)).toBe(true);
    });
  });

  it("corrupt-binary: one byte of binary tensor data differs, lengths and JSON bodies do not", async () => {
    await withFixture("corrupt-binary", async ({ entry, direct }) => {
      const [d, v] = await Promise.all([sendSpec(direct, binaryInfer), sendSpec(entry, binaryInfer)]);
      expect(v.status).toBe(200);
      expect(v.body.length).toBe(d.body.length);
      expect(v.headers[INFERENCE_HEADER_LENGTH.toLowerCase()]).toBe(d.headers[INFERENCE_HEADER_LENGTH.toLowerCase()]);
      const differing = [...v.body].flatMap((byte, i) => (byte !== d.body[i] ? [i] : []));
      expect(differing).toEqual([d.body.length - 1]);
      expect(differing[0]!).toBeGreaterThanOrEqual(Number(d.headers[INFERENCE_HEADER_LENGTH.toLowerCase()]));
      const [dj, vj] = await Promise.all([sendSpec(direct, jsonInfer), sendSpec(entry, jsonInfer)]);
      expect(vj.body.equals(dj.body)).toBe(true);
    });
  });

  it("truncate-large: a 9 MiB body arrives as 8 MiB; 1 MiB passes intact", async () => {
    await withFixture("truncate-large", async ({ entry }) => {
      const big = Buffer.alloc(9 * 1024 * 1024, 0x62);
      const reply = await send(entry, { path: "/v2/debug/echo", method: "POST", headers: { "content-type": "application/octet-stream" }, body: big }, 20_000);
      expect(reply.status).toBe(200);
      expect(reply.body.length).toBe(8 * 1024 * 1024);
      const small = Buffer.alloc(1024 * 1024, 0x73);
      expect((await send(entry, { path: "/v2/debug/echo", method: "POST", headers: { "content-type": "application/octet-stream" }, body: small })).body.equals(small)).toBe(true);
    });
  });

  it("buffer-stream: every SSE token arrives at the end, together", async () => {
    await withFixture("buffer-stream", async ({ entry }) => {
      const { atMs, final } = await streamTimes(entry, 6, 150);
      expect(atMs).toHaveLength(6);
      expect(final).toBe(true);
      expect(atMs[0]!).toBeGreaterThan(600);
      expect(atMs[5]! - atMs[0]!).toBeLessThan(50);
    });
  });

  it("mask-errors: an upstream 404 becomes its own 502", async () => {
    await withFixture("mask-errors", async ({ entry }) => {
      const reply = await send(entry, { path: "/v2/models/nope" });
      expect(reply.status).toBe(502);
      expect(JSON.parse(reply.body.toString())).toEqual({ error: "bad gateway" });
      expect((await sendSpec(entry, jsonInfer)).status).toBe(200);
    });
  });

  it("connection-limit: of 12 concurrent connections, only 8 are served", async () => {
    await withFixture("connection-limit", async ({ entry }) => {
      expect(await answeredOnConnections(entry, 12)).toBe(8);
    });
  });

  it("close-connections: answers with connection: close and closes", async () => {
    await withFixture("close-connections", async ({ entry }) => {
      const client = new Client(new URL(entry).origin, { pipelining: 1, keepAliveTimeout: 30_000 });
      let connects = 0;
      client.on("connect", () => connects++);
      try {
        for (let i = 0; i < 3; i++) {
          const response = await client.request({ path: "/v2/health/ready", method: "GET", headersTimeout: 5_000, bodyTimeout: 5_000 });
          await response.body.dump();
          expect(response.headers["connection"]).toBe("close");
        }
      } finally {
        await client.destroy();
      }
      expect(connects).toBe(3);
    });
  });
});

// ---------------------------------------------------------------- lifecycle faults

describe.concurrent("lifecycle faults with delays", () => {
  it("ready-late: honest in its first start; after a crash it forwards while /ready says 503 (for ~5 s)", async () => {
    await withFixture("ready-late", async (fixture) => {
      const events = fixture.pod.events().filter((e) => e.container === "ready-late");
      const started = events.find((e) => e.type === "started")!;
      const ready = events.find((e) => e.type === "ready")!;
      expect(ready.atMs - started.atMs).toBeLessThan(2_500);
      await crashSidecar(fixture);
      expect(await waitForListener(fixture.entry, 3_000)).toBe(true);
      const before = performance.now();
      const pid = await send(fixture.entry, { path: "/v2/debug/pid" }, 2_000);
      expect(pid.status).toBe(200); // forwarded to the primary…
      expect((await send(fixture.admin, { path: "/ready" })).status).toBe(503); // …while not ready
      expect(sidecarStatus(fixture).ready).toBe(false);
      expect(performance.now() - before).toBeLessThan(2_000);
    });
  });

  it("early-admin: after a crash /ready says 200 while the listen port is closed (for ~3 s)", async () => {
    await withFixture("early-admin", async (fixture) => {
      // Its first start is honest: ready means serving.
      expect((await sendSpec(fixture.entry, jsonInfer)).status).toBe(200);
      await crashSidecar(fixture);
      await waitUntil("early-admin is reported ready again", () => sidecarStatus(fixture).ready, 3_000);
      expect((await send(fixture.admin, { path: "/ready" })).status).toBe(200);
      await expect(send(fixture.entry, { path: "/v2/health/ready" }, 1_000)).rejects.toThrow(/ECONNREFUSED|connect/i);
      expect(startedLines(fixture).at(-1)?.restart).toMatchObject({ restart: true, starts: 2 });
    });
  });

  it("slow-start: ready only after ~6 s on its first start; restarts are fast", async () => {
    await withFixture("slow-start", async (fixture) => {
      expect(sidecarStatus(fixture).timeToReadyMs).toBeGreaterThan(6_000);
      const killedAt = await crashSidecar(fixture);
      await waitUntil("slow-start is ready again", () => sidecarStatus(fixture).ready, 3_000);
      expect(performance.now() - killedAt).toBeLessThan(3_000);
    }, { readyTimeoutMs: 20_000 });
  });

  it("hang-when-down: after a crash it accepts but holds requests (~5 s), then serves", async () => {
    await withFixture("hang-when-down", async (fixture) => {
      expect((await sendSpec(fixture.entry, jsonInfer)).status).toBe(200);
      const killedAt = await crashSidecar(fixture);
      expect(await waitForListener(fixture.entry, 3_000)).toBe(true);
      await expect(send(fixture.entry, { path: "/v2/debug/pid" }, 1_000)).rejects.toThrow();
      expect((await send(fixture.admin, { path: "/ready" })).status).toBe(503);
      const held = await send(fixture.entry, { path: "/v2/debug/pid" }, 8_000);
      expect(held.status).toBe(200);
      const servedAfterMs = performance.now() - killedAt;
      expect(servedAfterMs).toBeGreaterThan(4_000);
      expect(servedAfterMs).toBeLessThan(8_000);
    });
  });
});

describe("lifecycle faults", () => {
  it("slow-restart: after a crash nothing listens (connections refused) for seconds", async () => {
    await withFixture("slow-restart", async (fixture) => {
      await crashSidecar(fixture);
      await waitUntil("slow-restart logs its restart", () => startedLines(fixture).at(-1)?.restart?.restart === true, 3_000);
      expect(await waitForListener(fixture.entry, 2_000)).toBe(false);
      expect(sidecarStatus(fixture).ready).toBe(false);
    });
  });

  it("quits-early: exits when the primary stops accepting, cutting its in-flight stream", async () => {
    await withFixture("quits-early", async (fixture) => {
      const stream = streamTimes(fixture.entry, 15, 100).catch((error: Error) => error);
      await sleep(250);
      const stopped = await fixture.pod.stop();
      const result = await stream;
      if (!(result instanceof Error)) {
        expect(result.final).toBe(false);
        expect(result.atMs.length).toBeLessThan(15);
      }
      expect(fixture.pod.logs("quits-early", 10).join("\n")).toContain('"event":"upstream-gone"');
      const events = stopped.events.filter((e) => e.container === "quits-early").map((e) => e.type);
      expect(events).not.toContain("sigterm");
    }, { terminationGracePeriodMs: 8_000 });
  });

  it("ignore-sigterm: is killed at the end of the grace period", async () => {
    await withFixture("ignore-sigterm", async (fixture) => {
      const stopped = await fixture.pod.stop();
      expect(stopped.containers.find((c) => c.name === "ignore-sigterm")).toMatchObject({ killed: true, signal: "SIGKILL" });
      expect(fixture.pod.logs("ignore-sigterm", 10).join("\n")).toContain('"event":"sigterm"');
    }, { terminationGracePeriodMs: 1_500 });
  });

  it("exit-on-sigterm: exits at once on SIGTERM, with requests still in flight", async () => {
    await withFixture("exit-on-sigterm", async (fixture) => {
      const pending = send(fixture.entry, {
        path: "/v2/models/mlp/generate",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text_input: "x", parameters: { max_tokens: 20, token_interval_ms: 50 } }),
      }).catch((error: Error) => error);
      await new Promise((r) => setTimeout(r, 300));
      fixture.pod.signal("exit-on-sigterm", "SIGTERM");
      const outcome = await pending;
      expect(outcome instanceof Error || (outcome as { status: number }).status >= 500).toBe(true);
      expect(fixture.pod.logs("exit-on-sigterm", 10).join("\n")).toMatch(/"event":"exiting".*sigterm without drain/);
    });
  });
});

// ---------------------------------------------------------------- resource faults

describe("resource faults", () => {
  it("fat-idle: holds over 200 MiB while idle", async () => {
    await withFixture("fat-idle", async (fixture) => {
      expect(await memoryMiB(fixture)).toBeGreaterThan(200);
    });
  });

  it("cpu-burner: about 3 ms of CPU per request", async () => {
    await withFixture("cpu-burner", async (fixture) => {
      const before = await cpuMs(fixture);
      for (let i = 0; i < 100; i++) await send(fixture.entry, { path: "/v2/health/ready" });
      await sleep(50);
      expect(((await cpuMs(fixture)) - before) / 100).toBeGreaterThan(2.5);
    });
  });

  it("leaky: memory grows with every request and stays", async () => {
    await withFixture("leaky", async (fixture) => {
      const body = Buffer.alloc(256 * 1024, 0x6b);
      const before = await memoryMiB(fixture);
      for (let i = 0; i < 100; i++) await send(fixture.entry, { path: "/v2/debug/echo", method: "POST", headers: { "content-type": "application/octet-stream" }, body });
      // 100 × (256 KiB body + 64 KiB extra) ≈ 31 MiB kept.
      expect((await memoryMiB(fixture)) - before).toBeGreaterThan(25);
    });
  });
});

// ---------------------------------------------------------------- partial faults and the tracing variant

describe("partial faults", () => {
  it("partial/mask-errors-1-in-10: exactly one in every 10 upstream errors is masked", async () => {
    await withFixture("partial/mask-errors-1-in-10", async ({ entry }) => {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await send(entry, { path: "/v2/models/no-such-model/ready" })).status);
      expect(statuses.filter((s) => s === 502)).toHaveLength(3);
      expect(statuses.filter((s) => s === 404)).toHaveLength(27);
      // Answers the fault would not act on do not count: 200s pass and leave the rate alone.
      expect((await send(entry, { path: "/v2/health/ready" })).status).toBe(200);
    });
  });

  it("partial/mask-errors-5xx: 4xx answers pass, every 5xx is masked", async () => {
    await withFixture("partial/mask-errors-5xx", async ({ entry }) => {
      expect((await send(entry, { path: "/v2/models/no-such-model/ready" })).status).toBe(404);
      const masked = await send(entry, { path: "/v2/debug/fail?status=503", method: "POST" });
      expect(masked.status).toBe(502);
      expect(masked.headers["retry-after"]).toBeUndefined();
    });
  });
});

describe("legitimate/tracing-proxy", () => {
  it("forwards as a tracing proxy may: new parent-id, own tracestate entry first, Via, X-Forwarded-*, chunked bodies", async () => {
    await withFixture("legitimate/tracing-proxy", async ({ entry, direct }) => {
      const reply = await send(entry, echo({ traceparent: TRACEPARENT, tracestate: "sb=1", "x-request-id": "r-7" }, "a body"));
      const [version, traceId, parentId, flags] = String(reply.headers["x-echo-traceparent"]).split("-");
      expect([version, traceId, flags]).toEqual(["00", TRACEPARENT.split("-")[1], "01"]);
      expect(parentId).toMatch(/^[0-9a-f]{16}$/);
      expect(parentId).not.toBe(TRACEPARENT.split("-")[2]);
      expect(reply.headers["x-echo-tracestate"]).toBe(`sbproxy=${parentId},sb=1`);
      expect(reply.headers["x-echo-via"]).toBe("1.1 sidecar-bench-tracing");
      expect(reply.headers["x-echo-x-forwarded-for"]).toBe("127.0.0.1");
      expect(reply.headers["x-echo-x-forwarded-proto"]).toBe("http");
      expect(reply.headers["x-echo-forwarded"]).toBe("for=127.0.0.1;proto=http");
      expect(reply.headers["x-echo-x-request-id"]).toBe("r-7");
      expect(reply.headers["via"]).toBe("1.1 sidecar-bench-tracing");
      expect(reply.headers["transfer-encoding"]).toBe("chunked");
      expect(reply.body.toString()).toBe("a body");
      // Bodies stay byte-identical.
      const [d, v] = await Promise.all([sendSpec(direct, binaryInfer), sendSpec(entry, binaryInfer)]);
      expect(v.body.equals(d.body)).toBe(true);
    });
  });
});
