import { describe, expect, it } from "vitest";
import { planRoundSlots, planTrials, type MeasuredTrial, type TrialPlan } from "./trial-plan.ts";

const ARMS = ["baseline", "envoy", "baseline-aa"] as const;

function measured(plan: TrialPlan): MeasuredTrial[] {
  return plan.trials.filter((t): t is MeasuredTrial => !t.warmup);
}

function roundOrders(plan: TrialPlan): string[] {
  const orders: string[][] = Array.from({ length: plan.rounds }, () => []);
  for (const t of measured(plan)) orders[t.round]?.push(t.arm);
  return orders.map((o) => o.join(","));
}

describe("planTrials", () => {
  it("is deterministic for a seed and records it", () => {
    const a = planTrials({ arms: ARMS, rounds: 10, seed: 1234 });
    expect(planTrials({ arms: ARMS, rounds: 10, seed: 1234 })).toEqual(a);
    expect(a.seed).toBe(1234);
    expect(planTrials({ arms: ARMS, rounds: 10, seed: 1235 })).not.toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it("starts with one warm-up per arm, then rounds with every arm exactly once", () => {
    const plan = planTrials({ arms: ARMS, rounds: 15, seed: 7 });
    expect(plan.trials).toHaveLength(ARMS.length * 16);
    expect(plan.trials.slice(0, 3)).toEqual([
      { sequence: 0, arm: "baseline", warmup: true },
      { sequence: 1, arm: "envoy", warmup: true },
      { sequence: 2, arm: "baseline-aa", warmup: true },
    ]);
    expect(plan.trials.slice(3).every((t) => !t.warmup)).toBe(true);
    expect(plan.trials.map((t) => t.sequence)).toEqual(plan.trials.map((_, i) => i));
    const trials = measured(plan);
    for (let round = 0; round < plan.rounds; round++) {
      const inRound = trials.filter((t) => t.round === round);
      expect(inRound.map((t) => t.arm).sort()).toEqual([...ARMS].sort());
      expect(inRound.map((t) => t.slot)).toEqual([0, 1, 2]);
    }
    // Rounds run one after another, never interleaved with each other.
    expect(trials.map((t) => t.round)).toEqual([...trials.map((t) => t.round)].sort((x, y) => x - y));
  });

  it("varies the order across rounds for (almost) every seed", () => {
    // With 3 arms and 10 rounds, all rounds share one order with probability 6^-9 ≈ 1e-7
    // per seed, so even one such seed among 200 fixed seeds would point to a bug.
    let seedsWithVariedOrders = 0;
    for (let seed = 0; seed < 200; seed++) {
      const orders = roundOrders(planTrials({ arms: ARMS, rounds: 10, seed }));
      if (new Set(orders).size > 1) seedsWithVariedOrders++;
    }
    expect(seedsWithVariedOrders).toBe(200);
  });

  it("draws the 6 orders of 3 arms uniformly (chi-square over fixed seeds)", () => {
    const counts = new Map<string, number>();
    const firstSlot = new Map<string, number>();
    let total = 0;
    for (let seed = 0; seed < 100; seed++) {
      const plan = planTrials({ arms: ARMS, rounds: 60, seed });
      for (const order of roundOrders(plan)) {
        counts.set(order, (counts.get(order) ?? 0) + 1);
        const first = order.split(",")[0] as string;
        firstSlot.set(first, (firstSlot.get(first) ?? 0) + 1);
        total++;
      }
    }
    expect(counts.size).toBe(6);
    const expected = total / 6;
    let chiSquare = 0;
    for (const c of counts.values()) chiSquare += (c - expected) ** 2 / expected;
    // 99.9th percentile of chi-square with 5 degrees of freedom.
    expect(chiSquare).toBeLessThan(20.5);
    // No arm is systematically first (each ≈ 1/3, binomial SD ≈ 0.6%).
    for (const arm of ARMS) expect(Math.abs((firstSlot.get(arm) ?? 0) / total - 1 / 3)).toBeLessThan(0.03);
  });

  it("supports a single arm and a single round", () => {
    const plan = planTrials({ arms: ["baseline"], rounds: 1, seed: 0 });
    expect(plan.trials).toEqual([
      { sequence: 0, arm: "baseline", warmup: true },
      { sequence: 1, arm: "baseline", warmup: false, round: 0, slot: 0 },
    ]);
  });

  it("does not keep a reference to the caller's arms array", () => {
    const arms = ["a", "b"];
    const plan = planTrials({ arms, rounds: 2, seed: 3 });
    arms.push("c");
    expect(plan.arms).toEqual(["a", "b"]);
  });

  it("rejects bad requests with clear errors", () => {
    expect(() => planTrials({ arms: [], rounds: 3, seed: 1 })).toThrow("arms is empty");
    expect(() => planTrials({ arms: ["a", "a"], rounds: 3, seed: 1 })).toThrow('arm "a" is listed twice');
    expect(() => planTrials({ arms: ["a", " "], rounds: 3, seed: 1 })).toThrow("arms[1] must be a non-empty name");
    expect(() => planTrials({ arms: ["a"], rounds: 0, seed: 1 })).toThrow("rounds must be a positive integer");
    expect(() => planTrials({ arms: ["a"], rounds: 2.5, seed: 1 })).toThrow("rounds must be a positive integer");
    expect(() => planTrials({ arms: ["a"], rounds: 2, seed: -3 })).toThrow("planTrials: seed must be a non-negative safe integer");
  });
});

describe("planRoundSlots", () => {
  it("gives every arm one slot per block, in a reproducible, varying order", () => {
    const slots = planRoundSlots({ armCount: 3, blocks: 20, seed: 5, round: 0 });
    expect(slots).toHaveLength(60);
    for (let block = 0; block < 20; block++) expect(slots.slice(block * 3, block * 3 + 3).sort()).toEqual([0, 1, 2]);
    expect(planRoundSlots({ armCount: 3, blocks: 20, seed: 5, round: 0 })).toEqual(slots);
    expect(planRoundSlots({ armCount: 3, blocks: 20, seed: 5, round: 1 })).not.toEqual(slots);
    // Over 20 blocks of 6 possible permutations, more than one order appears.
    const orders = new Set(Array.from({ length: 20 }, (_, b) => slots.slice(b * 3, b * 3 + 3).join("")));
    expect(orders.size).toBeGreaterThan(1);
  });

  it("lets each arm lead the same number of measured rounds", () => {
    for (const [armCount, seed] of [[2, 1], [3, 1], [3, 5], [5, 3]] as const) {
      const leads = Array.from({ length: armCount * 4 }, (_, round) => planRoundSlots({ armCount, blocks: 8, seed, round })[0]);
      for (let arm = 0; arm < armCount; arm++) expect(leads.filter((lead) => lead === arm)).toHaveLength(4);
    }
  });

  it("rejects nonsense sizes", () => {
    expect(() => planRoundSlots({ armCount: 0, blocks: 1, seed: 1, round: 0 })).toThrow(RangeError);
    expect(() => planRoundSlots({ armCount: 2, blocks: 0, seed: 1, round: 0 })).toThrow(RangeError);
  });
});
