// Waiting for what the primary counted to reach the backend: polled until it has all
// arrived or the policy's delivery delay has passed, then judged on the last reading. Once
// everything has arrived the reading is kept up for a settle time: a duplicate or an
// over-count that arrives with the next export must still be seen.
import { performance } from "node:perf_hooks";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { pause } from "../support/bounded-wait.ts";
import { compareCounts, excesses, shortfalls, type CountComparison, type CountProblem, type Delivered, type LabelCount } from "./count-comparison.ts";
import { readDelivered } from "./delivered.ts";

export const POLL_MS = 250;
/**
 * Two of the primary's metric export intervals (OTEL_METRIC_EXPORT_INTERVAL, 1 s here): a
 * sidecar that sends an export twice, or adds to a count, shows it within the next export.
 */
export const SETTLE_MS = 2_000;

export interface DeliveryReading {
  delivered: Delivered;
  comparison: CountComparison;
  /** ms from the start of the wait to the reading judged. */
  waitedMs: number;
  /** ms from the start of the wait until everything had arrived (and stayed so); null if it is not all there. */
  completeAfterMs: number | null;
  polls: number;
}

export interface DeliveryWaitOptions {
  /** How long everything may take to arrive (the policy's deliveryDelayMs). */
  deadlineMs: number;
  /** Keep reading this long after everything arrived (SETTLE_MS for an exactly-once rule, 0 when only losses count). */
  settleMs: number;
  /** Which shortfalls must be gone for the wait to end early (default: all; a declared drop: the counts, not the spans). */
  awaited?: (problem: CountProblem) => boolean;
}

export async function awaitDelivery(context: ConformanceContext, pod: StartedPod, truth: readonly LabelCount[], options: DeliveryWaitOptions): Promise<DeliveryReading> {
  const began = performance.now();
  const maxPolls = Math.ceil((options.deadlineMs + options.settleMs) / POLL_MS) + 2;
  let completeAt: number | null = null;
  let last: DeliveryReading | undefined;
  for (let poll = 1; poll <= maxPolls; poll++) {
    const delivered = await readDelivered(context, pod);
    const comparison = compareCounts(truth, delivered);
    const now = performance.now() - began;
    const complete = shortfalls(comparison.problems).filter(options.awaited ?? (() => true)).length === 0;
    completeAt = complete ? (completeAt ?? now) : null;
    last = { delivered, comparison, waitedMs: now, completeAfterMs: completeAt, polls: poll };
    // Too much never heals; all there and settled is the answer; past the deadline, this reading is.
    if (excesses(comparison.problems).length > 0 && options.settleMs > 0) return last;
    if (complete && now - (completeAt ?? now) >= options.settleMs) return last;
    if (!complete && now >= options.deadlineMs) return last;
    await pause(POLL_MS, context.signal);
  }
  return last!;
}
