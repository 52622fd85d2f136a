// What a check's tries found, kept small whatever their number: counts per case and per
// delivery, and the first few failing tries in full. A failure message says how many
// tries failed and how they were delivered, so a fault that only strikes fresh
// connections or concurrent requests shows as such.
import { type Delivery, type PlannedTry, type TryPlan, deliveryCounts, describeDeliveries, plannedTries } from "./try-plan.ts";

/** Failing tries kept in full for the evidence: the first of each failing case, up to this many. */
const KEPT_FAILURES = 5;

export interface FailedTry {
  case: string;
  attempt: number;
  delivery: Delivery;
  problems: string[];
  /** Anything that shows the failure (answers, first differing byte). */
  detail?: Record<string, unknown>;
}

export class TryTally {
  private readonly failedByCase = new Map<string, number>();
  private readonly failedByDelivery: Record<Delivery, number> = { "keep-alive": 0, "fresh-connection": 0, concurrent: 0 };
  private readonly kept: FailedTry[] = [];
  private sent = 0;
  private failedCount = 0;

  constructor(
    readonly plan: TryPlan,
    private readonly caseNames: readonly string[],
  ) {}

  /** One try's verdict: no problems means it passed. */
  record(entry: PlannedTry, problems: string[], detail?: Record<string, unknown>): void {
    this.sent++;
    if (problems.length === 0) return;
    this.failedCount++;
    const name = this.caseNames[entry.caseIndex] ?? `case ${entry.caseIndex}`;
    const before = this.failedByCase.get(name) ?? 0;
    this.failedByCase.set(name, before + 1);
    this.failedByDelivery[entry.delivery]++;
    if (before === 0 && this.kept.length < KEPT_FAILURES) this.kept.push({ case: name, attempt: entry.attempt, delivery: entry.delivery, problems, ...(detail ? { detail } : {}) });
  }

  get tries(): number {
    return this.sent;
  }

  get failed(): number {
    return this.failedCount;
  }

  /** "484 JSON requests (11 cases × 44 tries: 121 on kept-alive connections, …)". */
  describeTries(what: string): string {
    return `${this.sent} ${what} (${this.plan.cases} case${this.plan.cases === 1 ? "" : "s"} × ${this.plan.triesPerCase} tries: ${describeDeliveries(this.plan)})`;
  }

  /** "12 of 484 tries (keep-alive 3/121, fresh-connection 0/121, concurrent 9/242) in 2 cases: a: p1; p2 | b: p3". */
  describeFailures(maxCases = 2): string {
    const totals = deliveryCounts(plannedTries(this.plan));
    const byDelivery = (Object.keys(totals) as Delivery[]).map((d) => `${d} ${this.failedByDelivery[d]}/${totals[d]}`).join(", ");
    const examples = this.kept.slice(0, maxCases).map((f) => `${f.case} (try ${f.attempt + 1}, ${f.delivery}): ${f.problems.join("; ")}`);
    if (this.failedByCase.size > examples.length) examples.push(`and ${this.failedByCase.size - examples.length} more case${this.failedByCase.size - examples.length === 1 ? "" : "s"}`);
    return `${this.failedCount} of ${this.sent} tries (${byDelivery}) in ${this.failedByCase.size} case${this.failedByCase.size === 1 ? "" : "s"}: ${examples.join(" | ")}`;
  }

  evidence(): Record<string, unknown> {
    return {
      seed: this.plan.seed,
      tries: this.sent,
      triesPerCase: this.plan.triesPerCase,
      deliveries: deliveryCounts(plannedTries(this.plan)),
      failedTries: this.failedCount,
      ...(this.failedCount > 0
        ? { failedByCase: Object.fromEntries(this.failedByCase), failedByDelivery: this.failedByDelivery, firstFailures: this.kept }
        : {}),
    };
  }
}
