// The order in which trials run (DESIGN.md, "Measuring overhead", rule 4): one short
// warm-up per arm, then N rounds in which every arm runs exactly once. Each round's
// order is shuffled from the recorded seed, so slow drift (thermal, page cache, a noisy
// neighbour) hits every arm alike instead of always favouring the arm that runs first,
// and the same seed reproduces the same schedule.
import { assertSeed, createPrng, type Seed } from "../measure/prng.ts";

export interface TrialPlanRequest {
  /** Arm names, e.g. ["baseline", "envoy", "baseline-aa"]; unique and non-empty. */
  readonly arms: readonly string[];
  /** Measured rounds; every arm runs once per round. */
  readonly rounds: number;
  /** Recorded in the plan so the schedule can be reproduced. */
  readonly seed: Seed;
}

export interface WarmupTrial {
  /** Position in the whole schedule, from 0. */
  readonly sequence: number;
  readonly arm: string;
  readonly warmup: true;
}

export interface MeasuredTrial {
  readonly sequence: number;
  readonly arm: string;
  readonly warmup: false;
  /** Round index from 0; pairs the arms' observations in the analysis. */
  readonly round: number;
  /** Position of this arm within its round, from 0. */
  readonly slot: number;
}

export type PlannedTrial = WarmupTrial | MeasuredTrial;

export interface TrialPlan {
  readonly seed: Seed;
  readonly arms: readonly string[];
  readonly rounds: number;
  /** Warm-ups first (arms in declared order, they are not analysed), then the rounds. */
  readonly trials: readonly PlannedTrial[];
}

/** The sub-stream label of the seed that orders rounds, so other uses cannot shift it. */
export const TRIAL_ORDER_STREAM = "trial-order";

export function planTrials(request: TrialPlanRequest): TrialPlan {
  const { arms, rounds, seed } = request;
  if (arms.length === 0) throw new RangeError("planTrials: arms is empty; list at least one arm");
  arms.forEach((arm, i) => {
    if (typeof arm !== "string" || arm.trim() === "") {
      throw new RangeError(`planTrials: arms[${i}] must be a non-empty name; got ${JSON.stringify(arm)}`);
    }
    if (arms.indexOf(arm) !== i) {
      throw new RangeError(`planTrials: arm "${arm}" is listed twice; arm names must be unique`);
    }
  });
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`planTrials: rounds must be a positive integer; got ${String(rounds)}`);
  }
  assertSeed(seed, "planTrials: seed");

  const trials: PlannedTrial[] = arms.map((arm, sequence) => ({ sequence, arm, warmup: true }));
  const prng = createPrng(seed, TRIAL_ORDER_STREAM);
  for (let round = 0; round < rounds; round++) {
    prng.shuffle(arms).forEach((arm, slot) => {
      trials.push({ sequence: trials.length, arm, warmup: false, round, slot });
    });
  }
  return { seed, arms: [...arms], rounds, trials };
}

/** The sub-stream label of the seed that orders slots within open-loop rounds. */
export const SLOT_ORDER_STREAM = "slot-order";

/**
 * Open-loop rounds alternate the arms in short slots: `blocks` blocks, each a fresh
 * permutation of the arms, so every arm gets the same number of slots spread over the
 * round and no arm always follows another. Returns arm indices, one per slot.
 * With one block this is the plain sequential trial order (each arm once per round).
 *
 * Who leads a measured round is counterbalanced: round r opens with the arm at r mod
 * armCount of a seeded order of the arms, so over every armCount rounds each arm leads
 * once. The leading slot meets a pod that idled between rounds, and its arm's tail pays
 * for it: over 757 recorded A/A rounds of this project's runs, the twin's Δp99 had a median
 * of +514 µs in rounds it led and −981 µs in rounds the baseline led (permutation test
 * p < 0.001). With the lead left to the shuffle, a fixed seed let one of the pair lead
 * more rounds (seed 7, 6 rounds: the twin 4, the baseline 1), run after run, and the A/A
 * floor's tails took that arm's sign.
 */
export function planRoundSlots(request: { armCount: number; blocks: number; seed: Seed; round: number | "warmup" }): number[] {
  const { armCount, blocks, seed, round } = request;
  if (!Number.isInteger(armCount) || armCount < 1) throw new RangeError(`planRoundSlots: armCount must be ≥ 1; got ${armCount}`);
  if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`planRoundSlots: blocks must be ≥ 1; got ${blocks}`);
  assertSeed(seed, "planRoundSlots: seed");
  const prng = createPrng(seed, `${SLOT_ORDER_STREAM}-${round}`);
  const arms = Array.from({ length: armCount }, (_, i) => i);
  const slots = Array.from({ length: blocks }, () => prng.shuffle(arms));
  if (round !== "warmup") {
    const lead = createPrng(seed, `${SLOT_ORDER_STREAM}-lead`).shuffle(arms)[round % armCount]!;
    const first = slots[0]!;
    // Swapping the lead to the front keeps the block a permutation, the rest still shuffled.
    const at = first.indexOf(lead);
    [first[0], first[at]] = [lead, first[0]!];
  }
  return slots.flat();
}
