// lifecycle.no-traffic-before-ready: a sidecar in the request path forwards nothing to
// the primary until it reports ready. Observed across a crash: the sidecar is killed,
// the runtime restarts it, and requests are driven at its entry port from the moment it
// is gone until it is ready again. A request answered by the primary (a KServe infer
// response) clearly before the runtime saw the sidecar ready is a violation; "clearly"
// allows for the probes' period, which is the runtime's delay, not the sidecar's.
//
// Why after a restart and not (also) at the pod's first start: driving requests then needs
// the entry port before startPod resolves, i.e. before readiness, and PodRuntime hands
// out the pod only once it is ready. A restarted sidecar goes through the same probes,
// with the primary already up, so a sidecar that forwards before it is ready shows it.
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import type { PodEvent } from "../../harness/runtime/pod-runtime.ts";
import { pause } from "../support/bounded-wait.ts";
import { podEvidence, readinessSlackMs, sidecarContainer } from "../support/pod-evidence.ts";
import { primaryAccessLog } from "../support/primary-access-log.ts";
import { inferRequest, isInferResponse, withHeader } from "../support/reference-requests.ts";
import { outcomeTimeline, roundMs, timedRequest, type TimedOutcome } from "../support/timed-request.ts";

const REQUEST_ID_PREFIX = "no-traffic-before-ready-";

export const noTrafficBeforeReady: ConformanceTest = {
  id: "lifecycle.no-traffic-before-ready",
  description:
    "The primary gets no traffic through the sidecar before the sidecar is ready: after a crash, requests sent at the " +
    "restarting sidecar are not forwarded until its readiness probe passes.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/ready-late.yaml",
  timeoutMs: 60_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "request sent at the sidecar's entry while it is not ready (first start and after a crash)"),
  async run(context): Promise<CheckOutcome> {
    if (!context.sidecar.manifest.spec.proxy) {
      return {
        verdict: "skipped",
        message: "the sidecar declares no spec.proxy: requests do not pass through it, so it cannot send the primary traffic before it is ready",
      };
    }
    const sidecar = sidecarContainer(context);
    const { restartWatchMs, watchAfterReadyMs, watchRequestTimeoutMs, watchRequestGapMs } = context.config;
    const pod = await context.startPod();
    const entry = context.entryUrl(pod);
    const request = inferRequest(context);
    const eventsBefore = pod.events().length;
    const killedAtMs = performance.now();
    const killedAtEpochMs = Date.now();
    pod.signal(sidecar, "SIGKILL");

    const outcomes: Array<TimedOutcome & { id: string }> = [];
    let readySeenAtMs: number | undefined;
    // Bounded in time, and in requests by what fits in that time.
    const maxRequests = Math.ceil(restartWatchMs / watchRequestGapMs);
    for (let i = 0; i < maxRequests && performance.now() - killedAtMs < restartWatchMs; i++) {
      const id = `${REQUEST_ID_PREFIX}${i}`;
      outcomes.push({ id, ...(await timedRequest(entry, withHeader(request, "x-request-id", id), { timeoutMs: watchRequestTimeoutMs, signal: context.signal })) });
      if (readySeenAtMs === undefined && readyAfter(pod.events().slice(eventsBefore), sidecar)) readySeenAtMs = performance.now();
      if (readySeenAtMs !== undefined && performance.now() - readySeenAtMs >= watchAfterReadyMs) break;
      await pause(watchRequestGapMs, context.signal);
    }

    const after = pod.events().slice(eventsBefore);
    const exited = after.find((e) => e.container === sidecar && e.type === "exited");
    const ready = readyAfter(after, sidecar);
    if (!exited) throw new Error(`the runtime recorded no exit of "${sidecar}" after SIGKILL (events: ${JSON.stringify(after)})`);
    const slack = readinessSlackMs(context.sidecar.manifest, context.policy, context.config);
    const lagMs = slack.slackMs;
    // The exit event comes after the kill, so this is a lower bound of the ready event on our clock.
    const readyAtMs = ready ? killedAtMs + (ready.atMs - exited.atMs) : Number.POSITIVE_INFINITY;
    const forwardedEarly = outcomes.filter((o) => isInferResponse(o.status, o.body) && o.endedAtMs < readyAtMs - lagMs);
    const primaryLinesEarly = ready
      ? primaryAccessLog(pod).filter((line) => line.path.endsWith("/infer") && line.atEpochMs > killedAtEpochMs && line.atEpochMs < killedAtEpochMs + (ready.atMs - exited.atMs) - lagMs)
      : [];

    const sinceKill = (ms: number) => roundMs(ms - killedAtMs);
    const evidence = {
      readyAfterKillMs: ready ? roundMs(ready.atMs - exited.atMs) : null,
      allowedProbeLagMs: lagMs,
      probeSlack: slack,
      requestsSent: outcomes.length,
      answeredByPrimaryBeforeReady: forwardedEarly.length,
      firstEarlyAnswers: forwardedEarly.slice(0, 5).map((o) => ({ id: o.id, sentAfterKillMs: sinceKill(o.startedAtMs), answeredAfterKillMs: sinceKill(o.endedAtMs) })),
      primaryAccessLogLinesBeforeReady: primaryLinesEarly.length,
      primaryAccessLogExcerpt: primaryLinesEarly.slice(0, 3).map((l) => l.raw),
      requestTimeline: outcomeTimeline(outcomes, killedAtMs, "after the kill"),
      ...podEvidence(pod, sidecar),
    };
    if (forwardedEarly.length > 0) {
      const first = forwardedEarly[0]!;
      const readyText = ready ? `the restarted sidecar became ready ${roundMs(ready.atMs - exited.atMs)} ms after the kill` : `the restarted sidecar was not ready within ${restartWatchMs} ms`;
      return {
        verdict: "failed",
        message:
          `expected no request to reach the primary before the sidecar was ready; found ${forwardedEarly.length} of ${outcomes.length} requests answered by the primary ` +
          `before it was ready (first answered ${sinceKill(first.endedAtMs)} ms after the kill; ${readyText}, allowing ${lagMs} ms for the probe period${slack.allowedProbePeriodMs < slack.probePeriodMs ? ` (${slack.probePeriodMs} ms declared, capped by the policy at ${slack.allowedProbePeriodMs} ms)` : ""})`,
        evidence,
      };
    }
    if (!ready) {
      return { verdict: "failed", message: `expected the sidecar to be ready again after a crash; it was not ready within ${restartWatchMs} ms of SIGKILL, so readiness gating could not be observed`, evidence };
    }
    return {
      verdict: "passed",
      message: `no request reached the primary before the restarted sidecar was ready (${outcomes.length} requests from the kill until ${watchAfterReadyMs} ms after ready at ${roundMs(ready.atMs - exited.atMs)} ms)`,
      evidence,
    };
  },
};

function readyAfter(events: readonly PodEvent[], container: string): PodEvent | undefined {
  return events.find((e) => e.container === container && e.type === "ready");
}

