// lifecycle.fails-fast-while-down: while the sidecar is down or restarting, requests sent
// through it fail fast (a refused connection, an error status) or succeed — they are not
// accepted and held. A client (or a load balancer's retry) can act on a fast failure; a
// held request ties up its connection and its deadline for nothing.
//
// Timing: the local runtime restarts a killed sidecar after a 100 ms back-off, then the
// new process starts and passes its startup probe. Requests go out back to back from the
// kill until the pod serves through the restarted sidecar again (or the suite config's
// failFastWatchMs passes), so they cover the gap, the new process's start, and its first
// moments. "Fast" is the policy's lifecycle.failFastMs.
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { containerStatus, podEvidence, sidecarContainer } from "../support/pod-evidence.ts";
import { inferRequest, isInferResponse } from "../support/reference-requests.ts";
import { describeOutcome, outcomeTimeline, roundMs, timedRequest, type TimedOutcome } from "../support/timed-request.ts";


export const failsFastWhileDown: ConformanceTest = {
  id: "lifecycle.fails-fast-while-down",
  description: "While the sidecar is down or restarting, each request through it fails (or succeeds) within the policy's lifecycle.failFastMs instead of hanging.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/hang-when-down.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 SIGKILL of the sidecar, requests every 20 ms until it serves again"),
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
    const maxRequests = Math.ceil(failFastWatchMs / watchRequestGapMs);
    for (let i = 0; i < maxRequests && performance.now() - killedAtMs < failFastWatchMs; i++) {
      const status = containerStatus(pod, sidecar);
      const restartedAndReady = status.restartCount > restartsBefore && status.state === "running" && status.ready;
      const outcome = await timedRequest(entry, request, { timeoutMs: requestTimeoutMs, signal: context.signal });
      outcomes.push(outcome);
      if (restartedAndReady && isInferResponse(outcome.status, outcome.body)) {
        recovered = outcome;
        break;
      }
      await pause(watchRequestGapMs, context.signal);
    }

    const held = outcomes.filter((o) => o.durationMs > failFastMs);
    const failedFast = outcomes.filter((o) => o.durationMs <= failFastMs && !isInferResponse(o.status, o.body));
    const evidence = {
      failFastMs,
      requests: outcomes.length,
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
    return {
      verdict: "passed",
      message: `all ${outcomes.length} requests settled within ${failFastMs} ms (${failedFast.length} failed fast while the sidecar was down) ${end}`,
      evidence,
    };
  },
};
