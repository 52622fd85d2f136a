// How an exchange-based check spreads its tries: each case (expectation) is tried n
// times, and the tries differ in how they reach the sidecar — on a kept-alive
// connection, on a fresh connection of their own, or in a group sent concurrently — so
// a fault that depends on the connection or on concurrency shows, and a fault on a
// fraction of requests meets enough tries (detection-claim.ts). The order is shuffled
// from a recorded seed: a fault that strikes every k-th request cannot line up with
// one case, and a failing run can be replayed. A case that varies its request per try
// varies it per block of DELIVERY_CYCLE.length tries (Math.floor(attempt / 4)), so each
// variant meets every delivery.
import { seededRandom, type RandomSource } from "../../harness/load/seeded-random.ts";

export type Delivery = "keep-alive" | "fresh-connection" | "concurrent";

/** Each case's tries take these deliveries in turn: ¼ kept-alive, ¼ fresh, ½ concurrent. */
export const DELIVERY_CYCLE: readonly Delivery[] = ["keep-alive", "fresh-connection", "concurrent", "concurrent"];

export interface PlannedTry {
  caseIndex: number;
  /** 0 … tries − 1 within its case. */
  attempt: number;
  delivery: Delivery;
}

/** A try sent on its own, or a group of tries sent at the same time. */
export type PlanStep = { kind: "single"; entry: PlannedTry } | { kind: "group"; entries: PlannedTry[] };

export interface TryPlan {
  seed: number;
  cases: number;
  triesPerCase: number;
  /** Largest concurrent group: the most connections the plan opens to the sidecar at once. */
  concurrency: number;
  steps: PlanStep[];
}

export interface PlanOptions {
  cases: number;
  triesPerCase: number;
  seed: number;
  concurrency: number;
  /** Deliveries cycled through per case (default DELIVERY_CYCLE). */
  deliveries?: readonly Delivery[];
}

export function planTries(options: PlanOptions): TryPlan {
  const { cases, triesPerCase, seed, concurrency } = options;
  if (!Number.isInteger(cases) || cases < 1) throw new Error(`planTries: cases must be a whole number ≥ 1, got ${cases}`);
  if (!Number.isInteger(triesPerCase) || triesPerCase < 1) throw new Error(`planTries: triesPerCase must be a whole number ≥ 1, got ${triesPerCase}`);
  if (!Number.isInteger(concurrency) || concurrency < 2) throw new Error(`planTries: concurrency must be a whole number ≥ 2, got ${concurrency}`);
  const cycle = options.deliveries ?? DELIVERY_CYCLE;
  const random = seededRandom(seed);
  const singles: PlannedTry[] = [];
  const concurrent: PlannedTry[] = [];
  for (let caseIndex = 0; caseIndex < cases; caseIndex++) {
    for (let attempt = 0; attempt < triesPerCase; attempt++) {
      const delivery = cycle[attempt % cycle.length]!;
      (delivery === "concurrent" ? concurrent : singles).push({ caseIndex, attempt, delivery });
    }
  }
  shuffle(concurrent, random);
  const steps: PlanStep[] = singles.map((entry) => ({ kind: "single", entry }));
  for (let at = 0; at < concurrent.length; at += concurrency) steps.push({ kind: "group", entries: concurrent.slice(at, at + concurrency) });
  shuffle(steps, random);
  return { seed, cases, triesPerCase, concurrency, steps };
}

/** Every try of the plan, in the order they are sent. */
export function plannedTries(plan: TryPlan): PlannedTry[] {
  return plan.steps.flatMap((step) => (step.kind === "single" ? [step.entry] : step.entries));
}

/** Tries per delivery, e.g. { "keep-alive": 121, "fresh-connection": 121, concurrent: 242 }. */
export function deliveryCounts(tries: readonly PlannedTry[]): Record<Delivery, number> {
  const counts: Record<Delivery, number> = { "keep-alive": 0, "fresh-connection": 0, concurrent: 0 };
  for (const entry of tries) counts[entry.delivery]++;
  return counts;
}

/** "121 on kept-alive connections, 121 on fresh ones, 242 in concurrent groups of 4". */
export function describeDeliveries(plan: TryPlan): string {
  const counts = deliveryCounts(plannedTries(plan));
  return `${counts["keep-alive"]} on kept-alive connections, ${counts["fresh-connection"]} on fresh ones, ${counts.concurrent} in concurrent groups of ≤ ${plan.concurrency}`;
}

/** Fisher–Yates, in place, from the plan's seeded source. */
function shuffle<T>(items: T[], random: RandomSource): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
