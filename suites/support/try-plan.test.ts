// The try plan is what the exchange-based checks' detection claims rest on: every case
// tried exactly triesPerCase times, spread over kept-alive, fresh and concurrent
// deliveries, in an order a recorded seed replays.
import { describe, expect, it } from "vitest";
import { DELIVERY_CYCLE, type Delivery, type PlannedTry, deliveryCounts, describeDeliveries, planTries, plannedTries } from "./try-plan.ts";
import { TryTally } from "./try-tally.ts";

const triesOf = (tries: readonly PlannedTry[], caseIndex: number) => tries.filter((t) => t.caseIndex === caseIndex);

describe("planTries", () => {
  it("tries every case exactly triesPerCase times, each attempt once", () => {
    const plan = planTries({ cases: 11, triesPerCase: 44, seed: 7, concurrency: 4 });
    const tries = plannedTries(plan);
    expect(tries).toHaveLength(11 * 44);
    for (let caseIndex = 0; caseIndex < 11; caseIndex++) {
      expect(triesOf(tries, caseIndex).map((t) => t.attempt).sort((a, b) => a - b)).toEqual(Array.from({ length: 44 }, (_, i) => i));
    }
  });

  it("gives each case ¼ kept-alive, ¼ fresh and ½ concurrent tries, the delivery cycling with the attempt", () => {
    const tries = plannedTries(planTries({ cases: 3, triesPerCase: 44, seed: 1, concurrency: 4 }));
    for (let caseIndex = 0; caseIndex < 3; caseIndex++) {
      const own = triesOf(tries, caseIndex);
      expect(deliveryCounts(own)).toEqual({ "keep-alive": 11, "fresh-connection": 11, concurrent: 22 });
      for (const t of own) expect(t.delivery).toBe(DELIVERY_CYCLE[t.attempt % DELIVERY_CYCLE.length]);
    }
  });

  it("so a variant changed per block of four attempts meets every delivery", () => {
    const tries = plannedTries(planTries({ cases: 1, triesPerCase: 44, seed: 3, concurrency: 4 }));
    const byBlock = new Map<number, Set<Delivery>>();
    for (const t of tries) byBlock.set(Math.floor(t.attempt / 4), (byBlock.get(Math.floor(t.attempt / 4)) ?? new Set()).add(t.delivery));
    expect(byBlock.size).toBe(11);
    for (const deliveries of byBlock.values()) expect([...deliveries].sort()).toEqual(["concurrent", "fresh-connection", "keep-alive"]);
  });

  it("sends singles alone and only concurrent tries in groups, none larger than the concurrency", () => {
    const plan = planTries({ cases: 9, triesPerCase: 44, seed: 11, concurrency: 4 });
    for (const step of plan.steps) {
      if (step.kind === "single") expect(step.entry.delivery).not.toBe("concurrent");
      else {
        expect(step.entries.length).toBeGreaterThan(0);
        expect(step.entries.length).toBeLessThanOrEqual(4);
        for (const entry of step.entries) expect(entry.delivery).toBe("concurrent");
      }
    }
    expect(describeDeliveries(plan)).toBe("99 on kept-alive connections, 99 on fresh ones, 198 in concurrent groups of ≤ 4");
  });

  it("follows a check's own delivery cycle (streaming: one kept-alive, one fresh, nine concurrent per eleven)", () => {
    const deliveries: Delivery[] = ["keep-alive", "fresh-connection", ...Array<Delivery>(9).fill("concurrent")];
    const plan = planTries({ cases: 1, triesPerCase: 44, seed: 5, concurrency: 4, deliveries });
    expect(deliveryCounts(plannedTries(plan))).toEqual({ "keep-alive": 4, "fresh-connection": 4, concurrent: 36 });
    expect(plan.steps.filter((s) => s.kind === "group")).toHaveLength(9);
  });

  it("replays the same order from the same seed, and shuffles another from another seed", () => {
    const order = (seed: number) => plannedTries(planTries({ cases: 4, triesPerCase: 44, seed, concurrency: 4 })).map((t) => `${t.caseIndex}.${t.attempt}`);
    expect(order(42)).toEqual(order(42));
    expect(order(43)).not.toEqual(order(42));
    // Shuffled, not case after case: the first twenty tries already span several cases.
    expect(new Set(order(42).slice(0, 20).map((id) => id.split(".")[0])).size).toBeGreaterThan(1);
  });

  it("refuses counts that would make a claim it cannot keep", () => {
    expect(() => planTries({ cases: 0, triesPerCase: 44, seed: 1, concurrency: 4 })).toThrow(/cases must be a whole number ≥ 1, got 0/);
    expect(() => planTries({ cases: 1, triesPerCase: 2.5, seed: 1, concurrency: 4 })).toThrow(/triesPerCase must be a whole number ≥ 1, got 2.5/);
    expect(() => planTries({ cases: 1, triesPerCase: 44, seed: 1, concurrency: 1 })).toThrow(/concurrency must be a whole number ≥ 2, got 1/);
  });
});

describe("TryTally", () => {
  it("counts every try, and names failures by case and delivery with the first of each failing case kept", () => {
    const plan = planTries({ cases: 2, triesPerCase: 8, seed: 9, concurrency: 2 });
    const tally = new TryTally(plan, ["a", "b"]);
    for (const entry of plannedTries(plan)) {
      const fails = entry.caseIndex === 1 && entry.delivery === "fresh-connection";
      tally.record(entry, fails ? [`broken ${entry.attempt}`] : []);
    }
    expect(tally.tries).toBe(16);
    expect(tally.failed).toBe(2);
    expect(tally.describeTries("requests")).toBe("16 requests (2 cases × 8 tries: 4 on kept-alive connections, 4 on fresh ones, 8 in concurrent groups of ≤ 2)");
    expect(tally.describeFailures()).toMatch(/^2 of 16 tries \(keep-alive 0\/4, fresh-connection 2\/4, concurrent 0\/8\) in 1 case: b \(try \d, fresh-connection\): broken \d$/);
    const evidence = tally.evidence();
    expect(evidence).toMatchObject({ seed: 9, tries: 16, triesPerCase: 8, failedTries: 2, failedByCase: { b: 2 }, failedByDelivery: { "fresh-connection": 2 } });
    expect(evidence["firstFailures"]).toHaveLength(1);
  });

  it("keeps its evidence small when everything passes", () => {
    const plan = planTries({ cases: 1, triesPerCase: 44, seed: 2, concurrency: 4 });
    const tally = new TryTally(plan, ["only"]);
    for (const entry of plannedTries(plan)) tally.record(entry, []);
    expect(tally.evidence()).toEqual({ seed: 2, tries: 44, triesPerCase: 44, deliveries: { "keep-alive": 11, "fresh-connection": 11, concurrent: 22 }, failedTries: 0 });
  });
});
