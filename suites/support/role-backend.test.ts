// RoleBackend against the real Python backend, started as a child process on free loopback ports.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, connect, type AddressInfo } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, venvPython } from "../../reference/native-suite.ts";
import { waitFor } from "./bounded-wait.ts";
import { matchingSeries, RoleBackend } from "./role-backend.ts";

const BACKEND_DIR = path.join(repoRoot, "reference", "backends", "role-backend");
const TOKEN = "role-backend-test-token";
const SEEDED_KEY = "seeded-4b1d";
const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const WAIT = { timeoutMs: 5_000, intervalMs: 25 };

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

interface Started {
  child: ChildProcess;
  ports: { otlp: number; syslog: number; vault: number; control: number };
  output: () => string;
}

async function startBackend(): Promise<Started> {
  const ports = { otlp: await freePort(), syslog: await freePort(), vault: await freePort(), control: await freePort() };
  const args = ["-m", "role_backend", "--host", "127.0.0.1", ...Object.entries(ports).flatMap(([name, port]) => [`--${name}`, String(port)])];
  const child = spawn(venvPython, args, {
    cwd: BACKEND_DIR,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", STORE_TOKEN: TOKEN, STORE_SEED: JSON.stringify({ "sidecar-bench/primary": { api_key: SEEDED_KEY } }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const ready = await waitFor(() => output.includes("ready ") || child.exitCode !== null, { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 25 });
  if (!ready || child.exitCode !== null) {
    child.kill("SIGKILL");
    throw new Error(`role backend did not start within ${STARTUP_TIMEOUT_MS} ms: ${output}`);
  }
  return { child, ports, output: () => output };
}

async function stopBackend(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function octetCounted(message: string): Buffer {
  const bytes = Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]);
}

async function sendTcp(port: number, payload: Buffer): Promise<void> {
  const socket = connect({ host: "127.0.0.1", port });
  // Bounded: a backend that never closes its side fails the test instead of hanging it.
  socket.setTimeout(STOP_TIMEOUT_MS, () => socket.destroy(new Error(`syslog port ${port}: no close within ${STOP_TIMEOUT_MS} ms`)));
  await once(socket, "connect");
  await new Promise<void>((resolve, reject) => socket.end(payload, () => resolve()).once("error", reject));
  await once(socket, "close");
}

describe("RoleBackend (suites/support/role-backend.ts) against the real backend", () => {
  let started: Started;
  let backend: RoleBackend;

  beforeAll(async () => {
    started = await startBackend();
    backend = new RoleBackend(`http://127.0.0.1:${started.ports.control}`, `http://127.0.0.1:${started.ports.vault}`);
  });

  afterAll(async () => {
    if (started) await stopBackend(started.child);
  });

  it("reports every listener up on the ports it was given", async () => {
    const health = await backend.health();
    expect(health.pid).toBe(started.child.pid);
    expect(health.stopping).toBe(false);
    expect(health.listeners.otlp).toMatchObject({ port: started.ports.otlp, state: "up", delayMs: 0 });
    expect(health.listeners.syslog.port).toBe(started.ports.syslog);
    expect(health.listeners.vault.port).toBe(started.ports.vault);
  });

  it("rotates a secret with a real KV v2 write, and records the reads that follow", async () => {
    const written = await backend.putSecret("sidecar-bench/primary", { api_key: "rotated-77e0" }, TOKEN);
    expect(written.version).toBe(2);
    const read = await request(`http://127.0.0.1:${started.ports.vault}/v1/secret/data/sidecar-bench/primary`, { headers: { "x-vault-token": TOKEN } });
    expect(((await read.body.json()) as { data: { data: { api_key: string } } }).data.data.api_key).toBe("rotated-77e0");
    const reads = await backend.vaultReads();
    expect(reads.reads.filter((r) => r.kind === "data").map((r) => [r.path, r.version])).toEqual([["sidecar-bench/primary", 2]]);
    await expect(backend.putSecret("sidecar-bench/primary", { api_key: "x" }, "wrong-token")).rejects.toThrow(/403/);
    expect(started.output()).not.toContain("rotated-77e0");
    expect(started.output()).not.toContain(SEEDED_KEY);
  });

  it("returns syslog messages exactly, in arrival order, across pages", async () => {
    const messages = ['{"seq":1,"msg":"caf\u00e9 \u65e5\u672c \u{1f680} \\"q\\""}', "x".repeat(20 * 1024), "plain"];
    await sendTcp(started.ports.syslog, Buffer.concat(messages.map((m) => octetCounted(`<14>1 - pod app - - - ${m}`))));
    expect(await waitFor(async () => (await backend.logs()).total >= messages.length, WAIT)).toBe(true);
    const records = await backend.allLogs();
    expect(records.map((r) => r.message)).toEqual(messages);
    expect(records.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(records[0]!.syslog).toMatchObject({ framing: "octet-counting", header: "rfc5424" });
    expect((await backend.logs(2)).records.map((r) => r.message)).toEqual(["plain"]);
  });

  it("folds OTLP/JSON counters into series and lists spans", async () => {
    const otlp = `http://127.0.0.1:${started.ports.otlp}`;
    const point = (value: number, status: string) => ({
      asInt: String(value),
      timeUnixNano: String(Date.now() * 1e6),
      attributes: [
        { key: "model", value: { stringValue: "mlp" } },
        { key: "status", value: { stringValue: status } },
      ],
    });
    const metrics = {
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "kserve.requests", sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point(3, "200"), point(1, "500")] } }] }] }],
    };
    for (let i = 0; i < 2; i++) {
      const response = await request(`${otlp}/v1/metrics`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(metrics) });
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toEqual({});
    }
    const snapshot = await backend.metrics();
    const ok = matchingSeries(snapshot.series, "kserve.requests", { status: "200" });
    expect(ok.map((s) => [s.value, s.points, s.temporality])).toEqual([[6, 2, "delta"]]);
    expect(matchingSeries(snapshot.series, "kserve.requests", { model: "mlp" })).toHaveLength(2);
    expect(snapshot.requests.json).toBe(2);

    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const spans = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId: "b7ad6b7169203331", name: "infer" }] }] }] };
    const sent = await request(`${otlp}/v1/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spans) });
    expect(sent.statusCode).toBe(200);
    await sent.body.dump();
    const page = await backend.spans();
    expect(page.spans.map((s) => [s.traceId, s.spanId, s.name])).toEqual([[traceId, "b7ad6b7169203331", "infer"]]);
    expect(page.dropped).toBe(0);
  });

  it("takes a listener down (connections refused), back up on the same port, and slows it", async () => {
    const otlp = `http://127.0.0.1:${started.ports.otlp}/v1/logs`;
    const post = () => request(otlp, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", headersTimeout: 5_000, bodyTimeout: 5_000 });
    expect(await backend.setState("otlp", "down")).toMatchObject({ state: "down", port: started.ports.otlp });
    await expect(post()).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect((await backend.setState("otlp", "up")).state).toBe("up");
    const fast = await post();
    expect(fast.statusCode).toBe(200);
    await fast.body.dump();

    const delayMs = 300;
    expect(await backend.setState("otlp", "slow", delayMs)).toMatchObject({ state: "slow", delayMs });
    const startedAt = performance.now();
    const slow = await post();
    await slow.body.dump();
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(delayMs);
    await backend.setState("otlp", "up");
    await expect(backend.setState("otlp", "slow")).rejects.toThrow(/delayMs must be > 0/);
  });
});
