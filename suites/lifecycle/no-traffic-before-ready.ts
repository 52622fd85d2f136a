// lifecycle.no-traffic-before-ready: a sidecar in the request path forwards nothing to
// the primary until it reports ready. Observed twice:
// - the pod's very first start: the runtime hands out the pod as soon as its containers
//   exist (StartPodOptions.onCreated), and requests are driven at the sidecar's entry from
//   then until it is ready — the sidecar starts first, the primary comes up behind it, and
//   a sidecar whose readiness lags its startup must not forward meanwhile;
// - a crash: the sidecar is killed, the runtime restarts it, and requests are driven from
//   the kill until it is ready again, with the primary up all along.
// A request answered by the primary (a KServe infer response) clearly before the runtime
// saw the sidecar ready is a violation; "clearly" allows for the probes' period, which is
// the runtime's delay, not the sidecar's (readinessSlackMs, capped by the policy). Each
// request sent while the sidecar is not ready is a try; a phase with fewer tries than the
// suite config's triesPerExpectation, or without the ready report, does not pass.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { containerStatus, podEvidence, readinessSlackMs, sidecarContainer } from "../support/pod-evidence.ts";
import { primaryAccessLog } from "../support/primary-access-log.ts";
import { requestsBeforeReady, watchUntilReady, type ReadinessWatch } from "../support/readiness-watch.ts";
import { inferRequest, isInferResponse } from "../support/reference-requests.ts";
import { outcomeTimeline, roundMs } from "../support/timed-request.ts";

/** Loops driving requests at once: enough tries in a sidecar's short not-ready window. */
const LOOPS = 4;
/** Requests per phase at most (a sidecar that forwards while not ready answers each in a few ms). */
const MAX_REQUESTS_PER_PHASE = 2_000;

interface PhaseResult {
  phase: string;
  /** What the phase's times count from: "creation", "the kill". */
  origin: string;
  watch: ReadinessWatch | undefined;
}

interface PhaseJudgement {
  phase: string;
  /** ok; a violation; no ready report (does not pass); too few tries or not watched (not judged). */
  status: "ok" | "violation" | "not-ready" | "too-few-tries" | "not-watched";
  tries: number;
  readyAfterMs: number | null;
  problem?: string;
  evidence: Record<string, unknown>;
}

function judge(result: PhaseResult, pod: StartedPod, slackMs: number, tries: number, noWatchReason: string): PhaseJudgement {
  const { phase, origin, watch } = result;
  if (!watch) return { phase, status: "not-watched", tries: 0, readyAfterMs: null, problem: noWatchReason, evidence: { phase, note: noWatchReason } };
  const since = (ms: number) => roundMs(ms - watch.startedAtMs);
  const before = requestsBeforeReady(watch);
  // Not ready until at least the last poll that said so: answers before it (less the probe slack) came before ready.
  const boundMs = (watch.notReadyLastSeenAtMs ?? watch.startedAtMs) - slackMs;
  const early = watch.outcomes.filter((o) => isInferResponse(o.status, o.body) && o.endedAtMs < boundMs);
  const boundEpochMs = (watch.notReadyLastSeenAtEpochMs ?? watch.startedAtEpochMs) - slackMs;
  const earlyLines = primaryAccessLog(pod).filter((line) => line.requestId?.startsWith(`${phasePrefix(phase)}`) && line.path.endsWith("/infer") && line.atEpochMs < boundEpochMs);
  const readyAfterMs = watch.readySeenAtMs === undefined ? null : since(watch.readySeenAtMs);
  const evidence = {
    phase,
    requestsSent: watch.outcomes.length,
    requestsBeforeReady: before.length,
    readySeenAfterMs: readyAfterMs,
    notReadyLastSeenAfterMs: watch.notReadyLastSeenAtMs === undefined ? null : since(watch.notReadyLastSeenAtMs),
    answeredByPrimaryBeforeReady: early.length,
    firstEarlyAnswers: early.slice(0, 5).map((o) => ({ id: o.id, sentAfterMs: since(o.startedAtMs), answeredAfterMs: since(o.endedAtMs) })),
    primaryAccessLogLinesBeforeReady: earlyLines.length,
    primaryAccessLogExcerpt: earlyLines.slice(0, 3).map((l) => l.raw),
    requestTimeline: outcomeTimeline(watch.outcomes, watch.startedAtMs, `after ${origin}`),
  };
  const base = { phase, tries: before.length, readyAfterMs, evidence };
  if (early.length > 0) {
    const readyText = readyAfterMs === null ? "never reported ready" : `reported ready ${readyAfterMs} ms after ${origin}`;
    return { ...base, status: "violation", problem: `${early.length} of ${watch.outcomes.length} requests were answered by the primary before the sidecar was ready (first ${since(early[0]!.endedAtMs)} ms after ${origin}; ${readyText})` };
  }
  if (readyAfterMs === null) return { ...base, status: "not-ready", problem: `the sidecar was not reported ready within the watch, so readiness gating could not be observed` };
  if (before.length < tries) return { ...base, status: "too-few-tries", problem: `only ${before.length} requests could be sent before the sidecar was ready (${readyAfterMs} ms after ${origin}); ${tries} are needed` };
  return { ...base, status: "ok" };
}

const phasePrefix = (phase: string) => `no-traffic-before-ready-${phase.replace(/\W+/g, "-")}-`;

export const noTrafficBeforeReady: ConformanceTest = {
  id: "lifecycle.no-traffic-before-ready",
  description:
    "The primary gets no traffic through the sidecar before the sidecar is ready: requests sent at the sidecar from the pod's creation, " +
    "and again from a crash of the sidecar, are not forwarded until its readiness probe passes.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/ready-late.yaml",
  timeoutMs: 90_000,
  detection: exchangeClaim(
    DEFAULT_SUITE_CONFIG.triesPerExpectation,
    `request sent at the sidecar's entry while it is not ready, on ${LOOPS} connections at once (the pod's first start, and after a crash)`,
  ),
  async run(context): Promise<CheckOutcome> {
    if (!context.sidecar.manifest.spec.proxy) {
      return {
        verdict: "skipped",
        message: "the sidecar declares no spec.proxy: requests do not pass through it, so it cannot send the primary traffic before it is ready",
      };
    }
    const sidecar = sidecarContainer(context);
    const tries = context.config.triesPerExpectation;
    const request = inferRequest(context);
    const watchOptions = (phase: string, entryUrl: string, isReady: () => boolean) => ({
      entryUrl,
      request,
      idPrefix: phasePrefix(phase),
      isReady,
      loops: LOOPS,
      gapMs: Math.max(1, Math.round(context.config.watchRequestGapMs / LOOPS)),
      requestTimeoutMs: context.config.watchRequestTimeoutMs,
      watchMs: context.config.restartWatchMs,
      afterReadyMs: context.config.watchAfterReadyMs,
      maxRequests: MAX_REQUESTS_PER_PHASE,
      signal: context.signal,
    });

    // First start: the watch begins when the runtime hands out the pod, before it is ready;
    // if the start fails, the watch stops before the error goes on.
    const stopFirst = new AbortController();
    let firstWatch: Promise<ReadinessWatch> | undefined;
    let pod: StartedPod;
    try {
      pod = await context.startPod({
        onCreated: (created) => {
          const options = watchOptions("first start", context.entryUrl(created), () => containerStatus(created, sidecar).ready);
          firstWatch = watchUntilReady({ ...options, signal: AbortSignal.any([context.signal, stopFirst.signal]) });
        },
      });
    } catch (error) {
      stopFirst.abort();
      await firstWatch?.catch(() => undefined);
      throw error;
    }
    const first: PhaseResult = { phase: "first start", origin: "creation", watch: await firstWatch };

    // After a crash: the watch begins at the kill.
    const restartsBefore = containerStatus(pod, sidecar).restartCount;
    pod.signal(sidecar, "SIGKILL");
    const crashWatch = await watchUntilReady(
      watchOptions("after a crash", context.entryUrl(pod), () => {
        const status = containerStatus(pod, sidecar);
        return status.restartCount > restartsBefore && status.ready;
      }),
    );
    const crash: PhaseResult = { phase: "after a crash", origin: "the kill", watch: crashWatch };

    const slack = readinessSlackMs(context.sidecar.manifest, context.policy, context.config, pod.readinessReportLagMs?.(sidecar) ?? 0);
    const noHandOut = `the ${context.runtime} runtime handed out no pod before it was ready (StartPodOptions.onCreated), so the first start could not be watched`;
    const phases = [first, crash].map((p) => judge(p, pod, slack.slackMs, tries, noHandOut));
    const evidence = { triesPerPhase: tries, allowedProbeLagMs: slack.slackMs, probeSlack: slack, phases: phases.map((p) => p.evidence), ...podEvidence(pod, sidecar) };
    const summary = phases.map((p) => `${p.phase}: ${p.tries} requests before ready at ${p.readyAfterMs ?? "—"} ms`).join("; ");
    const violations = phases.filter((p) => p.status === "violation");
    const problems = (list: PhaseJudgement[]) => list.map((p) => `${p.phase}: ${p.problem}`).join("; ");
    if (violations.length > 0) {
      return {
        verdict: "failed",
        message:
          `expected no request to reach the primary before the sidecar was ready; found ${problems(violations)} ` +
          `(allowing ${slack.slackMs} ms for the probe period${slack.allowedProbePeriodMs < slack.probePeriodMs ? ` (${slack.probePeriodMs} ms declared, capped by the policy at ${slack.allowedProbePeriodMs} ms)` : ""}` +
          `${slack.runtimeReportLagMs ? `, or the ${context.runtime} runtime's ${slack.runtimeReportLagMs} ms to probe and report readiness` : ""})`,
        evidence,
      };
    }
    const notReady = phases.filter((p) => p.status === "not-ready");
    if (notReady.length > 0) {
      return { verdict: "failed", message: `expected the sidecar to be reported ready, so that readiness gating can be observed; found ${problems(notReady)}`, evidence };
    }
    const unjudged = phases.filter((p) => p.status !== "ok");
    if (unjudged.length > 0) {
      return { verdict: "skipped", message: `no request reached the primary before the sidecar was ready, but the check could not try enough: ${problems(unjudged)}`, evidence };
    }
    return { verdict: "passed", message: `no request reached the primary before the sidecar was ready (${summary}; ≥ ${tries} tries each)`, evidence };
  },
};
