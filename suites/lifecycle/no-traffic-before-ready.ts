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
// request the sidecar accepted while not ready, early enough to be judged, is a try (a
// refused connection cannot be forwarded); the message says how many there were. A phase
// without the ready report does not pass. A sidecar that accepts nothing until it is ready
// holds the rule by construction; one that accepts early for a moment gives as many tries
// as fit in that moment (requests go out without pause).
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
  /** ok; a violation; no ready report (does not pass); not watched (not judged). */
  status: "ok" | "violation" | "not-ready" | "not-watched";
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
  // The tries: requests the sidecar accepted, settled early enough to count as a violation had the
  // primary answered them. A refused connection cannot be forwarded: it tries nothing.
  const accepted = watch.outcomes.filter((o) => o.code !== "ECONNREFUSED" && o.endedAtMs < boundMs);
  const evidence = {
    phase,
    requestsSent: watch.outcomes.length,
    requestsBeforeReady: before.length,
    requestsAcceptedBeforeReady: accepted.length,
    readySeenAfterMs: readyAfterMs,
    notReadyLastSeenAfterMs: watch.notReadyLastSeenAtMs === undefined ? null : since(watch.notReadyLastSeenAtMs),
    answeredByPrimaryBeforeReady: early.length,
    firstEarlyAnswers: early.slice(0, 5).map((o) => ({ id: o.id, sentAfterMs: since(o.startedAtMs), answeredAfterMs: since(o.endedAtMs) })),
    primaryAccessLogLinesBeforeReady: earlyLines.length,
    primaryAccessLogExcerpt: earlyLines.slice(0, 3).map((l) => l.raw),
    requestTimeline: outcomeTimeline(watch.outcomes, watch.startedAtMs, `after ${origin}`),
  };
  const base = { phase, tries: accepted.length, readyAfterMs, evidence };
  if (early.length > 0) {
    const readyText = readyAfterMs === null ? "never reported ready" : `reported ready ${readyAfterMs} ms after ${origin}`;
    return { ...base, status: "violation", problem: `${early.length} of ${watch.outcomes.length} requests were answered by the primary before the sidecar was ready (first ${since(early[0]!.endedAtMs)} ms after ${origin}; ${readyText})` };
  }
  if (readyAfterMs === null) return { ...base, status: "not-ready", problem: `the sidecar was not reported ready within the watch, so readiness gating could not be observed` };
  // Requests are sent without pause, so fewer than `tries` accepted ones mean the sidecar accepted
  // early for less time than it takes to send them: too short a window for a fault to show at
  // this resolution (the slack). None at all: it refuses connections until ready, and cannot
  // forward early. Either way the message says how many were judged.
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
    `request the sidecar accepts while it is not ready, before the probe slack (sent without pause on ${LOOPS} connections, the pod's first start and after a crash; fewer when it accepts early for less time than that takes, none when it refuses connections until ready)`,
  ),
  notApplicable: (sidecar) =>
    sidecar.spec.proxy ? undefined : "the sidecar declares no spec.proxy: requests do not pass through it, so it cannot send the primary traffic before it is ready",
  async run(context): Promise<CheckOutcome> {
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
    const summary = phases
      .map((p) => `${p.phase}: ${p.tries === 0 ? `it accepted no request before ready (${p.evidence["requestsBeforeReady"]} sent, refused), ready at ${p.readyAfterMs ?? "—"} ms` : `${p.tries} requests accepted while not ready and judged, ready at ${p.readyAfterMs ?? "—"} ms`}`)
      .join("; ");
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
      return { verdict: "skipped", message: `no request reached the primary before the sidecar was ready, but the check could not watch every phase: ${problems(unjudged)}`, evidence };
    }
    const few = phases.some((p) => p.tries > 0 && p.tries < tries) ? `; fewer than ${tries} judged means it accepted early for less time than sending them takes` : "";
    return { verdict: "passed", message: `no request reached the primary before the sidecar was ready (${summary}${few})`, evidence };
  },
};
