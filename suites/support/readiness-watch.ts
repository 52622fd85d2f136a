// Requests driven at a sidecar's entry while it is not (yet) ready, on several loops at
// once, each request on a fresh connection, until the runtime reports it ready and a
// little beyond. Readiness is read from the pod's status between requests: the last time
// it was seen not ready is a lower bound of the moment it became ready, so a request
// answered before then was answered before ready, whatever the clocks.
import { performance } from "node:perf_hooks";
import { pause } from "./bounded-wait.ts";
import { withHeader } from "./reference-requests.ts";
import { timedRequest, type TimedOutcome, type TimedRequestSpec } from "./timed-request.ts";
import type { HttpRequestSpec } from "../../harness/load/kserve-request.ts";

export interface WatchOptions {
  entryUrl: string;
  request: HttpRequestSpec;
  /** Each request gets x-request-id <prefix><n>, so the primary's access log names it. */
  idPrefix: string;
  /** The readiness the watch waits for (the sidecar ready, or ready again after a restart). */
  isReady: () => boolean;
  loops: number;
  gapMs: number;
  requestTimeoutMs: number;
  /** Longest watch without the ready report. */
  watchMs: number;
  /** Requests keep going this long after the ready report, so the evidence shows the switch. */
  afterReadyMs: number;
  /** Past this many requests the loops only keep watching readiness (a slow start is not a reason to flood). */
  maxRequests: number;
  signal: AbortSignal;
}

export interface WatchedRequest extends TimedOutcome {
  id: string;
}

export interface ReadinessWatch {
  /** performance.now() and Date.now() when the watch began. */
  startedAtMs: number;
  startedAtEpochMs: number;
  outcomes: WatchedRequest[];
  /** Last status poll that showed it not ready (performance.now(), Date.now()); undefined if it never was. */
  notReadyLastSeenAtMs?: number;
  notReadyLastSeenAtEpochMs?: number;
  /** First status poll that showed it ready; undefined if it never was within watchMs. */
  readySeenAtMs?: number;
}

/** Runs the loops until ready + afterReadyMs (or + maxRequests), watchMs or the signal; every request is awaited. */
export async function watchUntilReady(options: WatchOptions): Promise<ReadinessWatch> {
  const watch: ReadinessWatch = { startedAtMs: performance.now(), startedAtEpochMs: Date.now(), outcomes: [] };
  let sent = 0;
  const observe = () => {
    if (watch.readySeenAtMs !== undefined) return;
    if (options.isReady()) {
      watch.readySeenAtMs = performance.now();
    } else {
      watch.notReadyLastSeenAtMs = performance.now();
      watch.notReadyLastSeenAtEpochMs = Date.now();
    }
  };
  const done = () =>
    options.signal.aborted ||
    performance.now() - watch.startedAtMs >= options.watchMs ||
    (watch.readySeenAtMs !== undefined && (sent >= options.maxRequests || performance.now() - watch.readySeenAtMs >= options.afterReadyMs));
  const loop = async () => {
    for (observe(); !done(); observe()) {
      if (sent >= options.maxRequests) {
        await pause(options.gapMs, options.signal).catch(() => undefined);
        continue;
      }
      const id = `${options.idPrefix}${sent++}`;
      const spec: TimedRequestSpec = withHeader(options.request, "x-request-id", id);
      const outcome = await timedRequest(options.entryUrl, spec, { timeoutMs: options.requestTimeoutMs, signal: options.signal });
      watch.outcomes.push({ id, ...outcome });
      await pause(options.gapMs, options.signal).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: options.loops }, loop));
  watch.outcomes.sort((a, b) => a.startedAtMs - b.startedAtMs);
  return watch;
}

/** Requests sent while the watch had not yet seen the sidecar ready: the tries of "nothing is forwarded before ready". */
export function requestsBeforeReady(watch: ReadinessWatch): WatchedRequest[] {
  const readyAtMs = watch.readySeenAtMs ?? Number.POSITIVE_INFINITY;
  return watch.outcomes.filter((o) => o.startedAtMs < readyAtMs);
}
