// The gate behind the partial-fault fixtures: exactly one in every n requests a fault
// would act on, at a random phase; or only requests that meet a condition.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { createGate, gatedFault, gateObserver, type Pairs } from "./fault-gate.mjs";

function fakeRequest(headers: Record<string, string> = {}, socket: object = {}): IncomingMessage {
  return { headers, socket } as unknown as IncomingMessage;
}

/** A fault that drops `x-drop` when present, and replaces every 4xx/5xx answer. */
const fault = {
  name: "test-fault",
  requestHeaders: (pairs: Pairs) => pairs.filter(([name]) => name !== "x-drop"),
  response: ({ status }: { status: number }) => (status >= 400 ? { status: 502 } : undefined),
};

describe("fault gate", () => {
  it("--fault-every 10 acts on exactly one in every 10 requests, from a random phase", () => {
    const phases = new Set<number>();
    for (let run = 0; run < 50; run++) {
      const gate = createGate({ every: 10 });
      const requests = Array.from({ length: 100 }, () => fakeRequest());
      const struck = requests.map((req, i) => (gate.applies(req) ? i : -1)).filter((i) => i >= 0);
      expect(struck).toHaveLength(10);
      expect(struck.every((i) => i % 10 === gate.phase)).toBe(true);
      phases.add(gate.phase);
    }
    expect(phases.size).toBeGreaterThan(3);
  });

  it("decides once per request: every hook of a struck request acts, none of a spared one", () => {
    const gate = createGate({ every: 2, phase: 0 });
    const gated = gatedFault(fault, gate);
    const struck = fakeRequest();
    const spared = fakeRequest();
    const pairs: Pairs = [["x-drop", "1"], ["x-keep", "2"]];
    expect(gated.requestHeaders!(pairs, struck, {})).toEqual([["x-keep", "2"]]);
    expect(gated.response!({ req: struck, status: 404, headers: [] }, {})).toEqual({ status: 502 });
    expect(gated.requestHeaders!(pairs, spared, {})).toBeUndefined();
    expect(gated.response!({ req: spared, status: 404, headers: [] }, {})).toBeUndefined();
  });

  it("counts only requests a fault would change", () => {
    const gate = createGate({ every: 2, phase: 1 });
    const gated = gatedFault(fault, gate);
    // Nothing to drop and a 200: not an occurrence, so the next changed request is the first (phase 0, spared).
    expect(gated.requestHeaders!([["x-keep", "1"]], fakeRequest(), {})).toBeUndefined();
    expect(gated.response!({ req: fakeRequest(), status: 200, headers: [] }, {})).toBeUndefined();
    expect(gated.response!({ req: fakeRequest(), status: 500, headers: [] }, {})).toBeUndefined();
    expect(gated.response!({ req: fakeRequest(), status: 500, headers: [] }, {})).toEqual({ status: 502 });
  });

  it("--fault-when: fresh connections, chunked request bodies, upstream 5xx", () => {
    const fresh = createGate({ when: "fresh-connection" });
    const observer = gateObserver(fresh);
    const socket = {};
    const first = fakeRequest({}, socket);
    const second = fakeRequest({}, socket);
    observer.request(first);
    observer.request(second);
    expect([fresh.applies(first), fresh.applies(second)]).toEqual([true, false]);

    const chunked = createGate({ when: "chunked-request" });
    expect(chunked.applies(fakeRequest({ "transfer-encoding": "chunked" }))).toBe(true);
    expect(chunked.applies(fakeRequest({ "content-length": "10" }))).toBe(false);

    const fiveHundreds = gatedFault(fault, createGate({ when: "status-5xx" }));
    expect(fiveHundreds.response!({ req: fakeRequest(), status: 404, headers: [] }, {})).toBeUndefined();
    expect(fiveHundreds.response!({ req: fakeRequest(), status: 503, headers: [] }, {})).toEqual({ status: 502 });
  });

  it("--fault-when first-start: every hook acts in the first start only", () => {
    const gate = createGate({ when: "first-start" });
    const lateReady = { name: "late", ready: () => false, response: () => ({ status: 502 }) };
    const gated = gatedFault(lateReady, gate);
    expect(gated.restartAware).toBe(true);
    const first = { isRestart: () => false };
    const restarted = { isRestart: () => true };
    expect(gated.ready!(first, true)).toBe(false);
    expect(gated.ready!(restarted, true)).toBe(true);
    expect(gated.response!({ req: fakeRequest(), status: 200, headers: [] }, first)).toEqual({ status: 502 });
    expect(gated.response!({ req: fakeRequest(), status: 200, headers: [] }, restarted)).toBeUndefined();
  });

  it("--fault-when restart: every hook acts after a restart only", () => {
    const gated = gatedFault({ name: "late", ready: () => false, response: () => ({ status: 502 }) }, createGate({ when: "restart" }));
    expect(gated.restartAware).toBe(true);
    const first = { isRestart: () => false };
    const restarted = { isRestart: () => true };
    expect(gated.ready!(first, true)).toBe(true);
    expect(gated.ready!(restarted, true)).toBe(false);
    expect(gated.response!({ req: fakeRequest(), status: 200, headers: [] }, first)).toBeUndefined();
    expect(gated.response!({ req: fakeRequest(), status: 200, headers: [] }, restarted)).toEqual({ status: 502 });
  });

  it("rejects a bad rate or an unknown condition, naming the option", () => {
    expect(() => createGate({ every: 0 })).toThrow("--fault-every: expected a whole number ≥ 1, got 0");
    expect(() => createGate({ every: 2.5 })).toThrow("--fault-every: expected a whole number ≥ 1, got 2.5");
    expect(() => createGate({ when: "sometimes" })).toThrow('--fault-when: unknown condition "sometimes"; expected one of fresh-connection, chunked-request, status-5xx, first-start, restart');
  });
});
