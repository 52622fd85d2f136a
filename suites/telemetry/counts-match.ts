// telemetry.counts-match: what the primary counted arrives at the backend exactly once.
// After context.config.roleRequests requests of mixed outcomes (200, 404 for an unknown
// model, 400 for a malformed body: several label sets), the backend holds, for each of the
// primary's metrics (the kserve.requests counter, the kserve.request.duration histogram's
// count) and each label set {model, status}, exactly the primary's own count (GET
// /v2/debug/telemetry on the primary), within the policy's telemetry.deliveryDelayMs — and,
// when the sidecar forwards traces, exactly one span per counted request. Read from the
// reference backend for an otlp-http export (a cumulative series' newest value, the sum of
// a delta series), from Prometheus for an exposition or remote-write. Names are matched
// normalised (metric-names.ts: kserve.requests ≡ kserve_requests_total); series the
// sidecar adds (its own metrics, resource attributes, job/instance labels, a second path
// such as a collector's scrape of /metrics) are legitimate, each path's series must hold the
// full count; missing, lower and higher counts fail, duplicated spans too. The anchor: the
// OpenTelemetry Collector testbed's "sent equals received" correctness tests.
//
// Tries: the requests are spread so that the primary sends its spans in at least
// triesPerExpectation exports (its batch span processor exports every 200 ms), so a
// sidecar that loses or repeats one export in ten is caught every time. Metric exports
// carry cumulative counts: an export lost in the middle is healed by the next one, and what
// is judged of them is the final count, one observation.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { sidecarContainer } from "../support/pod-evidence.ts";
import { describeProblems, excesses, shortfalls } from "./count-comparison.ts";
import { forwardsTraces } from "./delivered.ts";
import { SETTLE_MS, awaitDelivery } from "./delivery-wait.ts";
import { primaryCounts, sendPaced, totalCount } from "./role-traffic.ts";
import { logsEvidence, readingEvidence, trafficEvidence } from "./telemetry-evidence.ts";

/** The primary's span batches leave every 200 ms (BatchSpanProcessor schedule delay); a little more apart, each try is its own export. */
export const SPAN_EXPORT_SPACING_MS = 220;

export const countsMatch: ConformanceTest = {
  id: "telemetry.counts-match",
  description:
    "After requests of mixed outcomes (200, 404, 400), the backend holds, per metric (kserve.requests, kserve.request.duration's count) and label set {model, status}, " +
    "exactly the primary's own counts within the policy's telemetry.deliveryDelayMs, and one span per counted request when the sidecar forwards traces: " +
    "nothing missing, lower, higher or duplicated (names matched normalised; extra series and labels of the sidecar's own are fine).",
  profile: "telemetry",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/duplicate-exports.yaml",
  timeoutMs: 60_000,
  detection: exchangeClaim(
    DEFAULT_SUITE_CONFIG.triesPerExpectation,
    "export of the primary's spans (its requests spread over as many 200 ms batches), each span of which must arrive exactly once; " +
      "the metrics' final counts are one observation (cumulative: a lost export is healed by the next)",
  ),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const deliveryDelayMs = context.policy.telemetry.deliveryDelayMs;
    const tries = context.config.triesPerExpectation;
    const pod = await context.startPod();
    const direct = context.directUrl(pod);
    const sent = await sendPaced(context, direct, {
      count: context.config.roleRequests,
      spreadMs: tries * SPAN_EXPORT_SPACING_MS,
      timeoutMs: context.config.requestTimeoutMs,
      signal: context.signal,
    });
    const truth = await primaryCounts(context, direct);
    const reading = await awaitDelivery(context, pod, truth, { deadlineMs: deliveryDelayMs, settleMs: SETTLE_MS });
    const { problems } = reading.comparison;
    const traces = forwardsTraces(context);
    const evidence = {
      deliveryDelayMs,
      spreadOverMs: tries * SPAN_EXPORT_SPACING_MS,
      spansCompared: traces,
      ...trafficEvidence(sent, truth),
      ...readingEvidence(reading),
      ...logsEvidence(pod, sidecar),
    };
    const expectation =
      `expected the backend to hold exactly the primary's counts per metric and label set${traces ? " and one span per counted request" : ""} ` +
      `(${totalCount(truth)} requests in ${truth.length} label sets) within ${deliveryDelayMs} ms`;
    if (problems.length > 0) {
      const short = shortfalls(problems);
      const over = excesses(problems);
      const spans = reading.delivered.spans;
      const found = [
        ...(over.length > 0 ? [`too much arrived: ${describeProblems(over)}${spans && spans.duplicateCopies > 0 ? ` (${spans.duplicateCopies} spans arrived more than once)` : ""}`] : []),
        // Cut short by an excess (which never heals), the shortfalls may only be still on their way.
        ...(short.length > 0 && reading.waitedMs >= deliveryDelayMs ? [`${over.length > 0 ? "and missing" : "missing"} after ${Math.round(reading.waitedMs)} ms: ${describeProblems(short)}`] : []),
      ];
      return { verdict: "failed", message: `${expectation}; ${found.join("; ")}`, evidence };
    }
    return {
      verdict: "passed",
      message:
        `the backend holds exactly the primary's ${totalCount(truth)} counted requests in ${truth.length} label sets ` +
        `(${reading.comparison.matched} series${traces ? " and span label sets" : ""} compared), complete ${Math.round(reading.completeAfterMs ?? 0)} ms after the last request, ` +
        `unchanged ${SETTLE_MS} ms later`,
      evidence,
    };
  },
};
