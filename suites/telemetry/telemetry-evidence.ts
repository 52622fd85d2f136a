// Evidence the telemetry verdicts show: what the primary counted, what arrived (series by
// path, spans), and how long it took — compact enough to read in a certificate.
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { logTail } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import { describeLabels, describeProblems, describeTruth, type Delivered, type LabelCount } from "./count-comparison.ts";
import type { DeliveryReading } from "./delivery-wait.ts";
import { describeSent, totalCount, unexpectedAnswers, type SentRequest } from "./role-traffic.ts";

export function deliveredEvidence(delivered: Delivered): Record<string, unknown> {
  return {
    series: delivered.series.map((s) => `${s.source} ${describeLabels(s)} = ${s.value}`).sort(),
    ...(delivered.spans
      ? {
          spans: {
            total: delivered.spans.total,
            byLabels: delivered.spans.byLabels.map((s) => `${describeLabels(s)} ${s.count}`),
            duplicateCopies: delivered.spans.duplicateCopies,
            otherSpans: delivered.spans.otherSpans,
          },
        }
      : {}),
  };
}

export function readingEvidence(reading: DeliveryReading): Record<string, unknown> {
  return {
    waitedMs: roundMs(reading.waitedMs, 0),
    completeAfterMs: reading.completeAfterMs === null ? null : roundMs(reading.completeAfterMs, 0),
    polls: reading.polls,
    compared: reading.comparison.compared,
    matched: reading.comparison.matched,
    problems: reading.comparison.problems.length > 0 ? describeProblems(reading.comparison.problems, 12) : "none",
    delivered: deliveredEvidence(reading.delivered),
  };
}

export function trafficEvidence(sent: readonly SentRequest[], truth: readonly LabelCount[]): Record<string, unknown> {
  const unexpected = unexpectedAnswers(sent);
  return {
    sent: sent.length,
    answers: describeSent(sent),
    ...(unexpected.length > 0 ? { unexpectedAnswers: unexpected.slice(0, 5).map((r) => `#${r.index}: expected ${r.expectStatus}, got ${r.status ?? r.error}`) } : {}),
    primaryCounted: totalCount(truth),
    primaryCounts: describeTruth(truth),
  };
}

export function logsEvidence(pod: StartedPod, sidecar: string): Record<string, unknown> {
  return { sidecarLog: logTail(pod, sidecar, 10), primaryLog: logTail(pod, PRIMARY_CONTAINER, 5) };
}
