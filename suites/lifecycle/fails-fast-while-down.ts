// lifecycle.fails-fast-while-down: while the sidecar is down or restarting, requests sent
// through it fail fast (a refused connection, an error status) or succeed — they are not
// accepted and held. A client (or a load balancer's retry) can act on a fast failure; a
// held request ties up its connection and its deadline for nothing.
//
// Timing: the local runtime restarts a killed sidecar after a 100 ms back-off, then the
// new process starts and passes its startup probe. Requests go out back to back on
// LOOPS connections at once from the kill until the pod serves through the restarted
// sidecar again (or the suite config's failFastWatchMs passes), so they cover the gap,
// the new process's start, and its first moments. "Fast" is the policy's
// lifecycle.failFastMs. Each request sent before the pod serves again is a try; fewer
// than the suite config's triesPerExpectation do not make a pass.
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { pause } from "../support/bounded-wait.ts";
import { containerStatus, podEvidence, sidecarContainer } from "../support/pod-evidence.ts";
import { inferRequest, isInferResponse } from "../support/reference-requests.ts";
import { describeOutcome, outcomeTimeline, roundMs, timedRequest, type TimedOutcome } from "../support/timed-request.ts";

/** Requests in flight at once: enough tries in a restart that takes a few hundred ms. */
const LOOPS = 4;

export const failsFastWhileDown: ConformanceTest = {
  id: "lifecycle.fails-fast-while-down",
  description: "While the sidecar is down or restarting, each request through it fails (or succeeds) within the policy's lifecycle.failFastMs instead of hanging.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/hang-when-down.yaml",
  timeoutMs: 60_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, `request sent through the sidecar from its crash until it serves again, on ${LOOPS} connections at once`),
  notApplicable: (sidecar) =>
    sidecar.spec.proxy ? undefined : "the sidecar declares no spec.proxy: requests do not pass through it, so none waits on it while it is down",
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    // A request that settles later than failFastMs while the sidecar is down was held, not failed fast.
    const failFastMs = context.policy.lifecycle.failFastMs;
    const { failFastWatchMs, watchRequestGapMs } = context.config;
    // Given longer than failFastMs, so the evidence shows how long a held request hangs.
    const requestTimeoutMs = 2 * failFastMs;
    const pod = await context.startPod();
    const entry = context.entryUrl(pod);
    const request = inferRequest(context);
    const restartsBefore = containerStatus(pod, sidecar).restartCount;

    const killedAtMs = performance.now();
    pod.signal(sidecar, "SIGKILL");
    const outcomes: TimedOutcome[] = [];
    let recovered: TimedOutcome | undefined;
    // Bounded in time, and in requests by what fits in that time at the loops' pace.
    const gapMs = Math.max(1, Math.round(watchRequestGapMs / LOOPS));
    const maxRequests = Math.ceil(failFastWatchMs / gapMs);
    const loop = async () => {
      while (!recovered && outcomes.length < maxRequests && performance.now() - killedAtMs < failFastWatchMs && !context.signal.aborted) {
        const status = containerStatus(pod, sidecar);
        const restartedAndReady = status.restartCount > restartsBefore && status.state === "running" && status.ready;
        const outcome = await timedRequest(entry, request, { timeoutMs: requestTimeoutMs, signal: context.signal });
        outcomes.push(outcome);
        if (restartedAndReady && isInferResponse(outcome.status, outcome.body)) recovered ??= outcome;
        else await pause(gapMs, context.signal).catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: LOOPS }, loop));
    outcomes.sort((a, b) => a.startedAtMs - b.startedAtMs);
    const tries = outcomes.filter((o) => !recovered || o.startedAtMs < recovered.startedAtMs).length;

    const held = outcomes.filter((o) => o.durationMs > failFastMs);
    const failedFast = outcomes.filter((o) => o.durationMs <= failFastMs && !isInferResponse(o.status, o.body));
    const evidence = {
      failFastMs,
      requests: outcomes.length,
      requestsBeforeServingAgain: tries,
      failedFast: failedFast.length,
      held: held.length,
      slowestMs: roundMs(Math.max(0, ...outcomes.map((o) => o.durationMs))),
      heldRequests: held.slice(0, 5).map((o) => `sent ${roundMs(o.startedAtMs - killedAtMs)} ms after the kill: ${describeOutcome(o)}`),
      recoveredAfterKillMs: recovered ? roundMs(recovered.endedAtMs - killedAtMs) : null,
      requestTimeline: outcomeTimeline(outcomes, killedAtMs, "after the kill"),
      ...podEvidence(pod, sidecar),
    };
    if (held.length > 0) {
      const first = held[0]!;
      return {
        verdict: "failed",
        message:
          `expected requests through the sidecar to fail fast (≤ the policy's ${failFastMs} ms) while it was down or restarting; ${held.length} of ${outcomes.length} were held ` +
          `(first sent ${roundMs(first.startedAtMs - killedAtMs, 0)} ms after SIGKILL: ${describeOutcome(first)})`,
        evidence,
      };
    }
    const end = recovered ? `until it served again ${roundMs(recovered.endedAtMs - killedAtMs, 0)} ms after SIGKILL` : `for ${failFastWatchMs} ms after SIGKILL`;
    if (tries < context.config.triesPerExpectation) {
      return {
        verdict: "skipped",
        message: `no request was held, but only ${tries} requests went out while the sidecar was down (${end}); ${context.config.triesPerExpectation} are needed to judge`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `all ${outcomes.length} requests (${tries} while the sidecar was down or restarting, on ${LOOPS} connections at once) settled within ${failFastMs} ms (${failedFast.length} failed fast) ${end}`,
      evidence,
    };
  },
};
