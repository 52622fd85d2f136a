import { describe, expect, it } from "vitest";
import { armOfUrl, planVegetaRound, vegetaRate, type VegetaTarget } from "./vegeta-targets.ts";

const request = (body: string): VegetaTarget["request"] => ({
  path: "/v2/models/m/infer",
  method: "POST",
  headers: { "content-type": "application/json", "x-api-key": "k" },
  body: Buffer.from(body),
});
const targets = (bodies: string[]): VegetaTarget[] => bodies.map((body, i) => ({ url: `http://127.0.0.1:${8000 + i}`, request: request(body) }));

describe("vegetaRate", () => {
  it("passes whole rates per second and keeps vegeta's whole-ns interval", () => {
    expect(vegetaRate(200)).toEqual({ flag: "200/1s", intervalNs: 5_000_000 });
    // vegeta divides in integers: 1e9 / 300 = 3 333 333 ns.
    expect(vegetaRate(300)).toEqual({ flag: "300/1s", intervalNs: 3_333_333 });
  });

  it("writes a fractional rate to a thousandth per second", () => {
    expect(vegetaRate(12.5)).toEqual({ flag: "12500/1000s", intervalNs: 80_000_000 });
  });

  it("refuses rates it cannot express", () => {
    expect(() => vegetaRate(0)).toThrow(/positive/);
    expect(() => vegetaRate(0.0001)).toThrow(/resolution/);
  });
});

describe("planVegetaRound", () => {
  it("lists requests in schedule order, each to the arm whose slot covers k / rate", () => {
    // 10/s: offsets 0, 100, …, 900 ms over slots [0,250) [250,500) [500,750) [750,1000).
    const plan = planVegetaRound({ targets: targets(["{}", "{}"]), ratePerSec: 10, slotMs: 250, slotOrder: [1, 0, 1, 0], maxRequests: 100, timeoutMs: 2000 });
    expect(plan.requestCount).toBe(10);
    expect(plan.armOf).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 0, 0]);
    expect(plan.targetLines.map((line) => armOfUrl(JSON.parse(line).url, 2))).toEqual(plan.armOf);
    expect(plan.rateFlag).toBe("10/1s");
    // The list ends the attack; the duration only bounds a generator more than a timeout behind.
    expect(plan.durationFlag).toBe(`${1000 + 2000}000000ns`);
    expect(plan.sendWindowMs).toBe(1000);
    expect(plan.stoppedBy).toBe("duration");
  });

  it("writes vegeta's JSON targets: full URL tagged with the arm, headers as lists, a shared body once", () => {
    const plan = planVegetaRound({ targets: targets(['{"a":1}', '{"a":1}']), ratePerSec: 4, slotMs: 500, slotOrder: [0, 1], maxRequests: 100, timeoutMs: 2000 });
    expect(plan.sharedBody?.toString()).toBe('{"a":1}');
    expect(JSON.parse(plan.targetLines[0]!)).toEqual({
      method: "POST",
      url: "http://127.0.0.1:8000/v2/models/m/infer#sb-arm-0",
      header: { "content-type": ["application/json"], "x-api-key": ["k"] },
    });
    expect(JSON.parse(plan.targetLines[3]!).url).toBe("http://127.0.0.1:8001/v2/models/m/infer#sb-arm-1");
  });

  it("gives each line its own base64 body when the arms' bodies differ", () => {
    const plan = planVegetaRound({ targets: targets(["one", "two"]), ratePerSec: 4, slotMs: 500, slotOrder: [0, 1], maxRequests: 100, timeoutMs: 2000 });
    expect(plan.sharedBody).toBeNull();
    expect(plan.targetLines.map((line) => Buffer.from(JSON.parse(line).body, "base64").toString())).toEqual(["one", "one", "two", "two"]);
  });

  it("tells apart two arms on one URL (the baseline and its A/A twin)", () => {
    const shared = targets(["{}"])[0]!;
    const plan = planVegetaRound({ targets: [shared, shared], ratePerSec: 8, slotMs: 250, slotOrder: [0, 1], maxRequests: 100, timeoutMs: 2000 });
    expect(plan.targetLines.map((line) => armOfUrl(JSON.parse(line).url, 2))).toEqual([0, 0, 1, 1]);
  });

  it("caps the round at maxRequests and shortens the send window to match", () => {
    const plan = planVegetaRound({ targets: targets(["{}"]), ratePerSec: 100, slotMs: 1000, slotOrder: [0], maxRequests: 30, timeoutMs: 2000 });
    expect(plan.requestCount).toBe(30);
    expect(plan.stoppedBy).toBe("maxRequests");
    expect(plan.sendWindowMs).toBe(300);
  });

  it("refuses a slot order naming a missing target", () => {
    expect(() => planVegetaRound({ targets: targets(["{}"]), ratePerSec: 10, slotMs: 250, slotOrder: [0, 1], maxRequests: 10, timeoutMs: 2000 })).toThrow(/slotOrder/);
  });
});

describe("armOfUrl", () => {
  it("reads the arm tag and refuses URLs without one or beyond the arms", () => {
    expect(armOfUrl("http://127.0.0.1:1/x#sb-arm-2", 3)).toBe(2);
    expect(armOfUrl("http://127.0.0.1:1/x#sb-arm-3", 3)).toBeNull();
    expect(armOfUrl("http://127.0.0.1:1/x", 3)).toBeNull();
  });
});
