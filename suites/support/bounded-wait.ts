// Waiting without unbounded loops: every wait has a deadline and a poll interval, and
// honours the check's abort signal.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `condition` every `intervalMs` until it holds (→ true) or `timeoutMs` passes (→ false). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs: number; signal?: AbortSignal },
): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  const maxPolls = Math.ceil(options.timeoutMs / Math.max(1, options.intervalMs)) + 1;
  for (let poll = 0; poll < maxPolls; poll++) {
    if (await condition()) return true;
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(options.intervalMs, left), undefined, options.signal ? { signal: options.signal } : {});
  }
  return condition();
}

export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, undefined, signal ? { signal } : {});
}
