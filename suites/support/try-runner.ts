// Sends a try plan (try-plan.ts) to the sidecar: a single try on the check's pool of
// kept-alive connections or on a fresh connection of its own, closed after it; a group
// concurrently on the pool. Each try may first prepare what it compares against (the
// direct answer), so the tries of a group reach the sidecar together.
import { Agent, Client, type Dispatcher } from "undici";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import type { PlannedTry, TryPlan } from "./try-plan.ts";

export interface TryHandlers<P, R> {
  /** Before the try is sent (for a group: before any of it is): e.g. ask the primary directly. */
  prepare(entry: PlannedTry): Promise<P>;
  /** The try itself, through `dispatcher`, which reaches the sidecar as the entry's delivery says. */
  send(entry: PlannedTry, prepared: P, dispatcher: Dispatcher): Promise<R>;
}

export interface TryResult<R> {
  entry: PlannedTry;
  result: R;
}

/** Idle pooled connections live across the pauses between steps (each step is short). */
const POOL_KEEP_ALIVE_MS = 10_000;

/** Runs every step in order (stops early when `signal` aborts) and returns the results in send order. */
export async function runTryPlan<P, R>(plan: TryPlan, entryUrl: string, handlers: TryHandlers<P, R>, signal: AbortSignal): Promise<TryResult<R>[]> {
  const origin = assertLoadTarget(entryUrl).origin;
  const pool = new Agent({ connections: plan.concurrency, pipelining: 1, keepAliveTimeout: POOL_KEEP_ALIVE_MS, keepAliveMaxTimeout: POOL_KEEP_ALIVE_MS });
  const results: TryResult<R>[] = [];
  try {
    for (const step of plan.steps) {
      if (signal.aborted) break;
      if (step.kind === "group") {
        const prepared: P[] = [];
        for (const entry of step.entries) prepared.push(await handlers.prepare(entry));
        const sent = await Promise.all(step.entries.map((entry, i) => handlers.send(entry, prepared[i]!, pool)));
        step.entries.forEach((entry, i) => results.push({ entry, result: sent[i] as R }));
        continue;
      }
      const { entry } = step;
      const prepared = await handlers.prepare(entry);
      if (entry.delivery === "fresh-connection") {
        const client = new Client(origin, { pipelining: 1 });
        try {
          results.push({ entry, result: await handlers.send(entry, prepared, client) });
        } finally {
          await client.destroy().catch(() => undefined);
        }
      } else {
        results.push({ entry, result: await handlers.send(entry, prepared, pool) });
      }
    }
  } finally {
    await pool.destroy().catch(() => undefined);
  }
  return results;
}
