// RemoteOpenLoop driving the real generator program (loadgen-main.ts, as the loadgen image
// runs it) as a child process over its stdin/stdout, against test servers on 127.0.0.1;
// and against stand-in streams for what a real generator does not do on request.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { hostname } from "node:os";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/test-server.ts";
import { buildInferRequest } from "../kserve-request.ts";
import { RemoteGeneratorError, RemoteOpenLoop } from "./remote-open-loop.ts";
import { REMOTE_PROTOCOL_VERSION, type RoundOptions } from "./remote-protocol.ts";

type Generator = ChildProcessByStdio<Writable, Readable, Readable>;
const children: Generator[] = [];

/** The generator as a process of its own, as the harness's exec session runs it in its pod. */
function startGenerator(): { child: Generator; remote: RemoteOpenLoop; stderr: string[] } {
  const child = spawn(process.execPath, ["--import", "tsx", "harness/load/remote/loadgen-main.ts"], { cwd: new URL("../../..", import.meta.url).pathname, stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const stderr: string[] = [];
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => stderr.push(...chunk.split("\n").filter(Boolean)));
  return { child, remote: new RemoteOpenLoop(child.stdin, child.stdout, `generator process ${child.pid}`, () => stderr.slice(-3)), stderr };
}

function exited(child: Generator): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

const request = buildInferRequest({ model: "m", format: "json", inputs: [{ name: "x", datatype: "FP32", shape: [1, 4] }] }, 1);
function round(targets: string[], overrides: Partial<RoundOptions> = {}): RoundOptions {
  return {
    targets: targets.map((url) => ({ url, request })),
    slotMs: 100,
    slotOrder: targets.map((_, i) => i),
    ratePerSec: 200,
    arrival: "constant",
    seed: 1,
    maxRequests: 1_000,
    // Generous: counts are compared with what the servers received, on a busy machine.
    timeoutMs: 10_000,
    maxConnections: 4,
    ...overrides,
  };
}

describe("RemoteOpenLoop with the real generator process", () => {
  let generator: ReturnType<typeof startGenerator>;
  const servers: TestServer[] = [];
  const server = async (options: Parameters<typeof startTestServer>[0] = {}) => {
    const s = await startTestServer(options);
    servers.push(s);
    return s;
  };
  beforeAll(() => {
    generator = startGenerator();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    generator.child.stdin.end();
    expect(await exited(generator.child)).toBe(0);
  });

  it("greets with its node and pid", async () => {
    expect(await generator.remote.ready()).toEqual({ node: hostname(), pid: generator.child.pid });
  });

  it("runs a round and answers with one result per target, in order", async () => {
    const [ok, failing] = [await server(), await server({ status: () => 503 })];
    const results = await generator.remote.run(round([ok.url, failing.url], { slotOrder: [0, 1, 0, 1] }));
    expect(results).toHaveLength(2);
    const [first, second] = results.map((r) => r.summary);
    expect(first).toMatchObject({ kind: "open-loop", stoppedBy: "duration", errors: {} });
    expect(first!.ok).toBe(ok.received());
    expect(first!.ok).toBe(first!.scheduled);
    expect(results[0]!.histograms.latency.totalCount).toBe(first!.ok);
    expect(second!.ok).toBe(0);
    expect(second!.completed).toBe(failing.received());
    expect(second!.errors).toEqual({ "503": failing.received() });
    expect(second!.latencyUs.p50).toBeNaN();
  });

  it("rounds in flight at once get their own results", async () => {
    const [a, b] = [await server(), await server()];
    const [forA, forB] = await Promise.all([generator.remote.run(round([a.url], { ratePerSec: 100 })), generator.remote.run(round([b.url], { ratePerSec: 300, slotMs: 200 }))]);
    expect(forA[0]!.summary.ok).toBe(a.received());
    expect(forB[0]!.summary.ok).toBe(b.received());
    expect([forA[0]!.summary.targetRatePerSec, forB[0]!.summary.targetRatePerSec]).toEqual([100, 300]);
  });

  it("an aborted round stops sending and answers with what it did", async () => {
    const target = await server();
    const controller = new AbortController();
    const running = generator.remote.run({ ...round([target.url], { ratePerSec: 50, slotMs: 30_000 }), signal: controller.signal });
    while (target.received() < 5) await sleep(20);
    controller.abort();
    const [result] = await running;
    expect(result!.summary.stoppedBy).toBe("signal");
    expect(result!.summary.sendWindowMs).toBeLessThan(30_000);
    expect(result!.summary.scheduled).toBeLessThan(1_000);
  });

  it("a round given an already-aborted signal stops at once, as the in-process open loop does", { timeout: 15_000 }, async () => {
    const target = await server();
    const controller = new AbortController();
    controller.abort();
    const [result] = await generator.remote.run({ ...round([target.url], { ratePerSec: 50, slotMs: 30_000 }), signal: controller.signal });
    expect(result!.summary.stoppedBy).toBe("signal");
    expect(result!.summary.scheduled).toBeLessThan(1_000);
  });

  it("a round the generator refuses fails with its reason, naming the generator", async () => {
    const failure = generator.remote.run(round(["http://127.0.0.1:1"], { ratePerSec: 0 }));
    await expect(failure).rejects.toThrow(RemoteGeneratorError);
    await expect(failure).rejects.toThrow(`generator process ${generator.child.pid}: open loop: ratePerSec must be a positive number, got 0`);
  });
});

describe("RemoteOpenLoop when the generator goes away", () => {
  it("a killed generator fails the rounds waiting for it, and every later one", async () => {
    const target = await startTestServer();
    try {
      const { child, remote } = startGenerator();
      await remote.ready();
      const waiting = remote.run(round([target.url], { ratePerSec: 50, slotMs: 30_000 }));
      while (target.received() < 2) await sleep(20);
      child.kill("SIGKILL");
      await expect(waiting).rejects.toThrow(new RegExp(`^generator process ${child.pid}: the generator's stream ended`));
      await expect(remote.run(round([target.url]))).rejects.toThrow(/the generator's stream ended/);
    } finally {
      await target.close();
    }
  });

  it("ending its input (the harness closing the session) ends the generator; what was waiting fails", async () => {
    const target = await startTestServer();
    try {
      const { child, remote } = startGenerator();
      await remote.ready();
      const waiting = remote.run(round([target.url], { ratePerSec: 50, slotMs: 30_000 }));
      while (target.received() < 2) await sleep(20);
      const failed = expect(waiting).rejects.toThrow(/the generator's stream ended/);
      child.stdin.end();
      expect(await exited(child)).toBe(0);
      await failed;
    } finally {
      await target.close();
    }
  });

  it("a generator of another protocol version is refused with what to do", async () => {
    const child = spawn(process.execPath, ["-e", `console.log(JSON.stringify({ type: "hello", protocol: ${REMOTE_PROTOCOL_VERSION + 1}, node: "old", pid: process.pid })); setInterval(() => {}, 1000)`], { stdio: ["pipe", "pipe", "pipe"] });
    children.push(child);
    const remote = new RemoteOpenLoop(child.stdin, child.stdout, "load generator pod ns/gen");
    await expect(remote.ready()).rejects.toThrow(`load generator pod ns/gen speaks protocol ${REMOTE_PROTOCOL_VERSION + 1}, the harness ${REMOTE_PROTOCOL_VERSION}: rebuild the loadgen image (node scripts/build-images.mjs)`);
    await expect(remote.run(round(["http://127.0.0.1:1"]))).rejects.toThrow(/speaks protocol/);
    child.kill("SIGKILL");
  });
});

describe("RemoteOpenLoop on stand-in streams", () => {
  const hello = `${JSON.stringify({ type: "hello", protocol: REMOTE_PROTOCOL_VERSION, node: "n1", pid: 7 })}\n`;

  /** A RemoteOpenLoop past its greeting, with what it sends collected. */
  async function greeted(): Promise<{ remote: RemoteOpenLoop; output: PassThrough; sent: string[] }> {
    const [input, output] = [new PassThrough(), new PassThrough()];
    const remote = new RemoteOpenLoop(input, output, "gen");
    output.write(hello);
    await remote.ready();
    const sent: string[] = [];
    input.on("data", (chunk: Buffer) => sent.push(chunk.toString()));
    return { remote, output, sent };
  }

  it("skips lines that are not its messages (a runtime's notice on the stream)", async () => {
    const output = new PassThrough();
    const remote = new RemoteOpenLoop(new PassThrough(), output, "gen");
    output.write('Defaulted container "loadgen" out of: loadgen\n');
    output.write(hello);
    expect(await remote.ready()).toEqual({ node: "n1", pid: 7 });
  });

  it("a stream that ends before the greeting fails with the generator's last lines", async () => {
    const output = new PassThrough();
    const remote = new RemoteOpenLoop(new PassThrough(), output, "load generator pod ns/gen", () => ["node: bad option: --import", "exit 9"]);
    output.end();
    await expect(remote.ready()).rejects.toThrow("load generator pod ns/gen: the generator's stream ended; its last lines:\n  node: bad option: --import\n  exit 9");
  });

  it("a failing stream fails the rounds waiting, with the stream's error", async () => {
    const { remote, output, sent } = await greeted();
    const waiting = remote.run(round(["http://127.0.0.1:1"]));
    await sleep(10);
    expect(JSON.parse(sent.join(""))).toMatchObject({ type: "round", id: 1 });
    output.destroy(new Error("websocket closed"));
    await expect(waiting).rejects.toThrow("gen: the generator's stream failed: websocket closed");
  });

  it("refuses a round whose target is neither loopback nor a pod this run created, before it leaves", async () => {
    const { remote, sent } = await greeted();
    await expect(remote.run(round(["http://127.0.0.1:1", "http://10.0.0.7:8080"]))).rejects.toThrow(/refusing to send load to 10\.0\.0\.7/);
    await sleep(10);
    expect(sent).toEqual([]);
  });

  it("skips JSON lines that are no message (null, a number)", async () => {
    const output = new PassThrough();
    const remote = new RemoteOpenLoop(new PassThrough(), output, "gen");
    output.write("null\n42\n");
    output.write(hello);
    expect(await remote.ready()).toEqual({ node: "n1", pid: 7 });
  });

  it("an error without a round's id fails no round", async () => {
    const { remote, output } = await greeted();
    let settled = false;
    const waiting = remote.run(round(["http://127.0.0.1:1"]));
    void waiting.then(() => (settled = true), () => (settled = true));
    output.write(`${JSON.stringify({ type: "error", id: null, message: "not a JSON message: x" })}\n`);
    await sleep(20);
    expect(settled).toBe(false);
    output.write(`${JSON.stringify({ type: "error", id: 1, message: "boom" })}\n`);
    await expect(waiting).rejects.toThrow("gen: boom");
  });
});
