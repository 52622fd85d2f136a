// The real vegeta (built by npm run setup into .venv/bin) against in-process servers on
// 127.0.0.1. Short rounds; counts are exact (vegeta sends the planned list once), timings
// only loosely checked: this runs on a noisy 2-core machine.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/test-server.ts";
import type { RoundOptions } from "../remote/remote-protocol.ts";
import { findVegeta } from "./vegeta-binary.ts";
import { VegetaDriver } from "./vegeta-driver.ts";
import { runVegeta } from "./vegeta-process.ts";

const venvBin = join(import.meta.dirname, "../../../.venv/bin");
const request = { path: "/v2/models/m/infer", method: "POST" as const, headers: { "content-type": "application/json", "x-api-key": "secret" }, body: Buffer.from('{"inputs":[]}') };

const servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function round(urls: string[], overrides: Partial<RoundOptions> = {}): RoundOptions {
  return {
    targets: urls.map((url) => ({ url, request })),
    ratePerSec: 100,
    arrival: "constant",
    seed: 1,
    slotMs: 250,
    slotOrder: [0, 1, 1, 0],
    maxRequests: 1000,
    timeoutMs: 2000,
    maxConnections: 8,
    ...overrides,
  };
}

describe("VegetaDriver", () => {
  it("sends the round's schedule once, split between the arms by slot, and reads back every request", async () => {
    const a = await server({ delayMs: 5 });
    const b = await server({ delayMs: 5 });
    const driver = await VegetaDriver.create(venvBin);
    expect(driver.description).toMatch(/^vegeta v12\.13\.0 /);
    const results = await driver.run(round([a.url, b.url]));
    // 100/s over 4 × 250 ms: 100 requests, 50 per arm (two slots each).
    expect(results.map((r) => r.summary.scheduled)).toEqual([50, 50]);
    expect(a.received()).toBe(50);
    expect(b.received()).toBe(50);
    for (const { summary, histograms } of results) {
      expect(summary).toMatchObject({ sent: 50, unsent: 0, completed: 50, ok: 50, errors: {}, sendWindowMs: 500, arrival: "constant", maxConnections: 8 });
      expect(histograms.latency.totalCount).toBe(50);
      expect(histograms.pacingError.totalCount).toBe(50);
      // The server holds each answer 5 ms (less up to 1 ms: Node's timers count whole ms).
      expect(summary.serviceTimeUs.p50).toBeGreaterThanOrEqual(4_000);
      expect(summary.latencyUs.p50).toBeGreaterThanOrEqual(summary.serviceTimeUs.p50);
    }
    // The arm's request as built, with vegeta's own sequence header beside it.
    const received = a.lastRequest()!;
    expect(received.body.toString()).toBe('{"inputs":[]}');
    expect(received.headers).toMatchObject({ "content-type": "application/json", "x-api-key": "secret" });
    expect(received.headers["x-vegeta-seq"]).toMatch(/^\d+$/);
    expect(received.url).toBe("/v2/models/m/infer");
  }, 30_000);

  it("keeps two arms on one server apart (the baseline and its A/A twin)", async () => {
    const shared = await server();
    const driver = await VegetaDriver.create(venvBin);
    const [baseline, twin] = await driver.run(round([shared.url, shared.url], { ratePerSec: 40, slotOrder: [1, 0] }));
    expect(shared.received()).toBe(20);
    expect(baseline!.summary).toMatchObject({ scheduled: 10, ok: 10 });
    expect(twin!.summary).toMatchObject({ scheduled: 10, ok: 10 });
  }, 30_000);

  it("counts error statuses and refused connections per arm", async () => {
    const failing = await server({ status: (n) => (n % 2 === 0 ? 503 : 200) });
    const gone = await startTestServer();
    await gone.close();
    const driver = await VegetaDriver.create(venvBin);
    const [flaky, refused] = await driver.run(round([failing.url, gone.url], { ratePerSec: 40, slotOrder: [0, 1] }));
    expect(flaky!.summary).toMatchObject({ scheduled: 10, completed: 10, ok: 5, errors: { "503": 5 } });
    expect(refused!.summary).toMatchObject({ scheduled: 10, completed: 0, ok: 0, errors: { connection: 10 } });
  }, 30_000);

  it("kills vegeta when the round is aborted", async () => {
    const s = await server();
    const driver = await VegetaDriver.create(venvBin);
    const controller = new AbortController();
    const startedMs = Date.now();
    setTimeout(() => controller.abort(), 500);
    await expect(driver.run({ ...round([s.url], { ratePerSec: 20, slotMs: 10_000, slotOrder: [0] }), signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - startedMs).toBeLessThan(5_000);
    const sent = s.received();
    await new Promise((done) => setTimeout(done, 300));
    expect(s.received()).toBe(sent);
  }, 30_000);

  it("refuses Poisson arrivals and targets off this machine", async () => {
    const driver = await VegetaDriver.create(venvBin);
    await expect(driver.run(round(["http://127.0.0.1:1"], { arrival: "poisson", slotOrder: [0] }))).rejects.toThrow(/constant rate/);
    await expect(driver.run(round(["http://192.0.2.1:80"], { slotOrder: [0] }))).rejects.toThrow();
  });
});

describe("runVegeta", () => {
  it("kills a vegeta that outlives its deadline and says so", async () => {
    const s = await server();
    const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-vegeta-test-"));
    try {
      const targets = join(dir, "targets.txt");
      await writeFile(targets, `GET ${s.url}/\n`);
      const startedMs = Date.now();
      // 60 s of 5/s: far beyond the deadline.
      const attack = runVegeta({ binary: findVegeta(venvBin), args: ["attack", "-rate", "5/1s", "-duration", "60s", "-targets", targets, "-output", join(dir, "out.gob")], deadlineMs: 800 });
      await expect(attack).rejects.toThrow(/vegeta attack did not finish within 0\.8 s and was killed/);
      expect(Date.now() - startedMs).toBeLessThan(5_000);
      const sent = s.received();
      expect(sent).toBeGreaterThan(0);
      await new Promise((done) => setTimeout(done, 500));
      expect(s.received()).toBe(sent);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("carries vegeta's stderr into the error of a failed command", async () => {
    await expect(runVegeta({ binary: findVegeta(venvBin), args: ["attack", "-format", "nonsense"], deadlineMs: 10_000 })).rejects.toThrow(/exited with code \d+; its stderr:\n.*nonsense/s);
  });
});

describe("findVegeta", () => {
  it("says how to install vegeta when it is absent", () => {
    expect(() => findVegeta("/nonexistent-a:/nonexistent-b")).toThrow(/vegeta binary was not found .*run: npm run setup \(or node scripts\/setup\.mjs\)/);
  });
});
