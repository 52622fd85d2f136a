// Waiting until a deadline on a high-resolution clock. Node's timers fire up to ~1 ms
// late (and only in whole ms), so we sleep with a timer until shortly before the
// deadline and then yield to the event loop with setImmediate until it has passed.
// Yielding (rather than spinning synchronously) keeps responses flowing meanwhile.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";

/** How far before the deadline the coarse timer hands over to setImmediate polling. */
const TIMER_SLACK_MS = 1.5;

/**
 * Resolves at or just after `deadlineMs` (a performance.now() value), or as soon as
 * `signal` aborts (it never rejects: the caller checks signal.aborted).
 */
export async function waitUntil(deadlineMs: number, signal?: AbortSignal): Promise<void> {
  const coarseMs = deadlineMs - performance.now() - TIMER_SLACK_MS;
  if (coarseMs >= 1) {
    try {
      await sleep(Math.floor(coarseMs), undefined, signal ? { signal } : undefined);
    } catch {
      return; // aborted
    }
  }
  while (performance.now() < deadlineMs && !signal?.aborted) await yieldToLoop();
}
