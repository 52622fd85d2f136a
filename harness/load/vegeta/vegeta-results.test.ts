// Parsing and reading results.json, recorded with the real vegeta (fixtures/record-results.ts):
// 20 requests at 20/s in four slots — arm 0 answers 200, arm 1 503, arm 2 times out, arm 3's port is closed.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FIXTURE_ROUND } from "./fixtures/fixture-round.ts";
import { roundResultsOf, type VegetaRoundSettings } from "./vegeta-round-results.ts";
import { parseVegetaResults, parseVegetaTimestamp, timestampDiffNs, vegetaErrorKind, type VegetaResult } from "./vegeta-results.ts";
import { planVegetaRound } from "./vegeta-targets.ts";

const fixture = readFileSync(new URL("./fixtures/results.json", import.meta.url), "utf8");
const request = { path: "/v2/models/m/infer", method: "POST" as const, headers: {}, body: Buffer.from("{}") };
const settings = (armCount: number, round: { slotMs: number; slotOrder: number[] }, ratePerSec: number): VegetaRoundSettings => ({
  ratePerSec,
  seed: 1,
  maxConnections: 4,
  timeoutMs: 100,
  ...round,
  armCount,
  rateShortfallThresholdPct: 2,
});

describe("parseVegetaResults", () => {
  it("reads every result of the recording with its fields", () => {
    const results = parseVegetaResults(fixture, "results.json");
    // 20 requests, then the hits that found the list exhausted (they end the attack and send nothing).
    const sent = results.filter((r) => r.url !== "");
    expect(sent.map((r) => r.seq).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    const ends = results.filter((r) => r.url === "");
    expect(ends.length).toBeGreaterThan(0);
    expect(ends.every((r) => r.seq >= 20 && r.code === 0 && r.error === "no targets to attack")).toBe(true);
    const first = results.find((r) => r.seq === 0)!;
    expect(first.code).toBe(200);
    expect(first.error).toBe("");
    expect(first.latencyNs).toBeGreaterThan(0);
    expect(first.url).toMatch(/#sb-arm-0$/);
  });

  it("names the file, line and field of a malformed result", () => {
    expect(() => parseVegetaResults('{"seq":0}\n', "r.json")).toThrow(/^r\.json:1: field timestamp: /);
    expect(() => parseVegetaResults('\n{"seq":-1,"timestamp":"2026-01-01T00:00:00Z"}', "r.json")).toThrow(/^r\.json:2: field seq: expected a whole number/);
    expect(() => parseVegetaResults("{not json", "r.json")).toThrow(/^r\.json:1: not a JSON result line/);
  });
});

describe("parseVegetaTimestamp", () => {
  it("keeps nanoseconds, trimmed trailing zeros and zone offsets", () => {
    const a = parseVegetaTimestamp("2026-12-07T06:39:28.64968943Z");
    expect(a.nanos).toBe(649_689_430);
    const b = parseVegetaTimestamp("2026-12-07T07:39:28.649689431+01:00");
    expect(timestampDiffNs(b, a)).toBe(1);
    expect(parseVegetaTimestamp("2026-12-07T06:39:28Z").nanos).toBe(0);
    expect(() => parseVegetaTimestamp("yesterday")).toThrow(/RFC 3339/);
  });
});

describe("vegetaErrorKind", () => {
  it("names errors as the harness's own loop does", () => {
    expect(vegetaErrorKind({ code: 200, error: "" })).toBeNull();
    expect(vegetaErrorKind({ code: 503, error: "503 Service Unavailable" })).toBe("503");
    // vegeta counts a 3xx as success; the harness only counts 2xx.
    expect(vegetaErrorKind({ code: 302, error: "" })).toBe("302");
    expect(vegetaErrorKind({ code: 0, error: 'Post "http://127.0.0.1:1/x": context deadline exceeded (Client.Timeout exceeded while awaiting headers)' })).toBe("timeout");
    expect(vegetaErrorKind({ code: 0, error: 'Post "http://127.0.0.1:1/x": dial tcp 0.0.0.0:0->127.0.0.1:1: connect: connection refused' })).toBe("connection");
    expect(vegetaErrorKind({ code: 0, error: 'Post "http://127.0.0.1:1/x": read tcp 127.0.0.1:5->127.0.0.1:1: read: connection reset by peer' })).toBe("connection");
    expect(vegetaErrorKind({ code: 0, error: 'Post "http://127.0.0.1:1/x": net/http: HTTP/1.x transport connection broken: malformed HTTP response "x"' })).toMatch(/^other:/);
  });
});

describe("roundResultsOf", () => {
  it("reads the recording into per-arm counts, error kinds and histograms", () => {
    const plan = planVegetaRound({ ...FIXTURE_ROUND, targets: Array.from({ length: 4 }, (_, i) => ({ url: `http://127.0.0.1:${i + 1}`, request })) });
    const [ok, unavailable, slow, closed] = roundResultsOf(plan, parseVegetaResults(fixture, "results.json"), settings(4, FIXTURE_ROUND, FIXTURE_ROUND.ratePerSec));
    for (const arm of [ok, unavailable, slow, closed]) {
      expect(arm!.summary).toMatchObject({ scheduled: 5, sent: 5, unsent: 0, arrival: "constant", sendWindowMs: 250, targetRatePerSec: 20 });
    }
    expect(ok!.summary).toMatchObject({ ok: 5, completed: 5, errors: {}, rateShortfall: false });
    expect(ok!.histograms.latency.totalCount).toBe(5);
    expect(ok!.histograms.serviceTime.totalCount).toBe(5);
    expect(unavailable!.summary).toMatchObject({ ok: 0, completed: 5, errors: { "503": 5 }, rateShortfallPct: 100, rateShortfall: true });
    expect(slow!.summary).toMatchObject({ ok: 0, completed: 0, errors: { timeout: 5 } });
    expect(closed!.summary).toMatchObject({ ok: 0, completed: 0, errors: { connection: 5 } });
    // Latency counts from the scheduled send: never below the service time.
    expect(ok!.summary.latencyUs.p50).toBeGreaterThanOrEqual(ok!.summary.serviceTimeUs.p50);
    // Pacing is measured for every sent request, from the best-paced one (1 µs is the histogram's floor).
    const pacingMinUs = Math.min(...[ok, unavailable, slow, closed].map((arm) => arm!.histograms.pacingError.minNonZeroValue));
    expect(pacingMinUs).toBe(1);
    expect(Date.parse(ok!.summary.startedAt)).toBeGreaterThan(Date.parse("2026-01-01"));
  });

  it("puts a stall of the generator into the latency of every request due during it (no coordinated omission)", () => {
    // 100/s; vegeta sends 0 and 1 on time, then 2…4 together 30 ms late; each answer takes 1 ms.
    const at = (ms: number): VegetaResult["timestamp"] => ({ epochSec: 1_800_000_000, nanos: Math.round(ms * 1e6) });
    const result = (seq: number, sentMs: number): VegetaResult => ({ seq, timestamp: at(sentMs), latencyNs: 1_000_000, code: 200, error: "", url: `http://127.0.0.1:1/#sb-arm-0` });
    const round = { slotMs: 50, slotOrder: [0] };
    const plan = planVegetaRound({ ...round, ratePerSec: 100, maxRequests: 100, timeoutMs: 1000, targets: [{ url: "http://127.0.0.1:1", request }] });
    expect(plan.requestCount).toBe(5);
    const [arm] = roundResultsOf(plan, [result(0, 10), result(1, 20), result(2, 60), result(3, 60), result(4, 60)], settings(1, round, 100));
    const latencyUs = (p: number) => arm!.histograms.latency.getValueAtPercentile(p);
    // Request 2 was due at 20 ms after the first, sent at 50 ms: 30 ms late + 1 ms; request 4: 10 ms late + 1 ms.
    expect(latencyUs(100)).toBeCloseTo(31_000, -2);
    expect(latencyUs(0)).toBeCloseTo(1_000, -2);
    expect(arm!.histograms.serviceTime.maxValue).toBeCloseTo(1_000, -2);
    expect(arm!.summary.pacingErrorUs.max).toBeCloseTo(30_000, -2);
    // The last request went out 10 ms after it was due.
    expect(arm!.summary.sendLagMs).toBeCloseTo(10, 6);
  });

  it("counts planned requests without a result as unsent, and ignores results outside the plan", () => {
    const round = { slotMs: 100, slotOrder: [0, 1] };
    const plan = planVegetaRound({ ...round, ratePerSec: 20, maxRequests: 100, timeoutMs: 1000, targets: [0, 1].map((i) => ({ url: `http://127.0.0.1:${i + 1}`, request })) });
    const ts = (ms: number) => ({ epochSec: 1_800_000_000, nanos: ms * 1e6 });
    const results: VegetaResult[] = [
      { seq: 0, timestamp: ts(0), latencyNs: 1e6, code: 200, error: "", url: "http://127.0.0.1:1/#sb-arm-0" },
      { seq: 1, timestamp: ts(50), latencyNs: 1e6, code: 200, error: "", url: "http://127.0.0.1:1/#sb-arm-0" },
      { seq: 2, timestamp: ts(100), latencyNs: 1e6, code: 200, error: "", url: "http://127.0.0.1:2/#sb-arm-1" },
      { seq: 4, timestamp: ts(200), latencyNs: 1e6, code: 200, error: "", url: "http://127.0.0.1:1/#sb-arm-0" },
    ];
    const [a, b] = roundResultsOf(plan, results, settings(2, round, 20));
    expect(a!.summary).toMatchObject({ scheduled: 2, sent: 2, unsent: 0, ok: 2 });
    expect(b!.summary).toMatchObject({ scheduled: 2, sent: 1, unsent: 1, ok: 1, rateShortfallPct: 50 });
  });
});
