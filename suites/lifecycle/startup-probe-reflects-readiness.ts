// lifecycle.startup-probe-reflects-readiness: when the runtime reports the sidecar
// started and ready, it really serves — the probes watch the request path, not merely an
// admin port that opens first. Judged twice: right after the pod is ready, and right
// after the runtime reports the sidecar ready again following a crash (where the
// primary is already up, so nothing else can hide a sidecar that is not serving yet).
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceContext, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { waitFor } from "../support/bounded-wait.ts";
import { containerStatus, podEvidence, sidecarContainer } from "../support/pod-evidence.ts";
import { inferRequest, isInferResponse } from "../support/reference-requests.ts";
import { describeOutcome, roundMs, timedRequest, type TimedOutcome } from "../support/timed-request.ts";

/** Requests sent back to back the moment readiness is reported; each must be answered by the primary. */
const REQUESTS_AT_READY = 3;

interface Phase {
  phase: string;
  outcomes: TimedOutcome[];
  /** Not answered by the primary (an error status of the sidecar, a refused connection, a timeout). */
  failed: TimedOutcome[];
}

export const startupProbeReflectsReadiness: ConformanceTest = {
  id: "lifecycle.startup-probe-reflects-readiness",
  description:
    "The startup and readiness probes reflect real readiness: requests through the sidecar succeed right after the pod " +
    "reports ready, and right after a restarted sidecar is reported ready again.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/early-admin.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("readiness report: the first start and a restart after SIGKILL, each followed at once by 3 requests"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    const phases: Phase[] = [await requestsNow(context, pod, "right after the pod became ready")];

    const restartsBefore = containerStatus(pod, sidecar).restartCount;
    pod.signal(sidecar, "SIGKILL");
    const killedAtMs = performance.now();
    const readyAgain = await waitFor(
      () => {
        const status = containerStatus(pod, sidecar);
        return status.restartCount > restartsBefore && status.state === "running" && status.ready;
      },
      // restartWatchMs: the recovery's speed is another check's rule; statusPollMs is small, so the requests follow the report closely.
      { timeoutMs: context.config.restartWatchMs, intervalMs: context.config.statusPollMs, signal: context.signal },
    );
    const readyAgainAfterKillMs = performance.now() - killedAtMs;
    if (readyAgain) phases.push(await requestsNow(context, pod, "right after the restarted sidecar was reported ready"));

    const failures = phases.filter((p) => p.failed.length > 0);
    const evidence = {
      phases: phases.map((p) => ({ phase: p.phase, requests: p.outcomes.map(describeOutcome) })),
      restartedSidecarReportedReadyAfterKillMs: readyAgain ? roundMs(readyAgainAfterKillMs) : null,
      ...podEvidence(pod, sidecar),
    };
    if (failures.length > 0) {
      const text = failures.map((p) => `${p.phase}: ${p.failed.length} of ${p.outcomes.length} failed (first: ${describeOutcome(p.failed[0]!)})`).join("; ");
      return {
        verdict: "failed",
        message: `expected requests through the sidecar to be answered by the primary as soon as the sidecar is reported started and ready; ${text} — the probes pass before the sidecar serves`,
        evidence,
      };
    }
    const restartNote = readyAgain
      ? "and right after the restarted sidecar was reported ready"
      : `(the crashed sidecar was not reported ready within ${context.config.restartWatchMs} ms, so only the first start was judged)`;
    return {
      verdict: "passed",
      message: `${REQUESTS_AT_READY} requests through the sidecar were answered by the primary right after the pod became ready ${restartNote}`,
      evidence,
    };
  },
};

async function requestsNow(context: ConformanceContext, pod: StartedPod, phase: string): Promise<Phase> {
  const entry = context.entryUrl(pod);
  const request = inferRequest(context);
  const outcomes: TimedOutcome[] = [];
  for (let i = 0; i < REQUESTS_AT_READY; i++) {
    outcomes.push(await timedRequest(entry, request, { timeoutMs: context.config.requestTimeoutMs, signal: context.signal }));
  }
  return { phase, outcomes, failed: outcomes.filter((o) => !isInferResponse(o.status, o.body)) };
}
