// logs.every-line-once-in-order: the sidecar ships every line the primary writes to its
// access log exactly once, in the order written, byte for byte, within the policy's
// logs.deliveryDelayMs. The primary numbers every line (`seq`, one sequence from its
// start) and tags it with the pod's `run`; after max(roleRequests, triesPerExpectation)
// requests, GET /v2/debug/log says which seq was last written, so every line from 1 to
// it — the requests', the probes', the debug calls' — must be at the backend, once each,
// in seq order, and each line of a request the check sent must be the text the primary
// wrote (its `ts` and `duration_ms` taken from the line, all else from the request).
// Anchor: Vector's correctness harness (file source → sink, "every line once").
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import { expectedTextOf } from "./expected-lines.ts";
import { analyseDelivery, deliveryLatencyMs, deliveryProblems, seqRange } from "./line-analysis.ts";
import { BackendLogs, PrimaryLog, roleBackend, sendLoggedRequests } from "./log-pod.ts";

export const everyLineOnceInOrder: ConformanceTest = {
  id: "logs.every-line-once-in-order",
  description:
    "Every line the primary writes to its access log (max(roleRequests, triesPerExpectation) requests, three in four inferences, with the probes' " +
    "and debug calls' lines between them) arrives at the backend exactly once, in the order written, byte for byte, within the policy's logs.deliveryDelayMs.",
  profile: "logs",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/drop-lines.yaml",
  timeoutMs: 60_000,
  // Each request's line is a try: max(roleRequests, triesPerExpectation) requests are at least triesPerExpectation tries.
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "request whose access-log line must arrive once, in order, intact (at least this many, three in four inferences)"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const deliveryDelayMs = context.policy.logs.deliveryDelayMs;
    const pod = await context.startPod();
    const primary = PrimaryLog.of(pod, context.signal);
    const { run } = await primary.state();
    const count = Math.max(context.config.roleRequests, context.config.triesPerExpectation);
    const sent = await sendLoggedRequests(context, context.directUrl(pod), count, `logs-${randomBytes(3).toString("hex")}`);
    // Every line up to lastSeq is written: the expectation, from the primary's own count.
    const { lastSeq } = await primary.state();
    const writtenAtMs = performance.now();
    const backend = new BackendLogs(roleBackend(pod, context.signal), run);
    const expected = seqRange(1, lastSeq);
    const deliveredMs = await backend.waitForSeqs(expected, deliveryDelayMs, context.signal);
    const arrivals = backend.arrivals();
    const report = analyseDelivery(arrivals, { seqs: expected, expectedText: expectedTextOf(run, { requests: new Map(sent.map((r) => [r.requestId, r])) }) });
    const problems = deliveryProblems(report);
    const evidence = {
      run,
      requests: sent.length,
      statuses: countBy(sent.map((r) => r.status)),
      linesWritten: lastSeq,
      deliveredAfterLastWriteMs: deliveredMs === null ? null : roundMs(deliveredMs),
      deliveryDelayMs,
      waitedMs: roundMs(performance.now() - writtenAtMs),
      recordsAtBackend: backend.count,
      droppedByBackend: backend.droppedByBackend,
      latencyFromTsMs: deliveryLatencyMs(arrivals.lines),
      report,
      sidecarLog: logTail(pod, sidecar),
    };
    if (problems.length > 0) {
      return {
        verdict: "failed",
        message: `expected all ${lastSeq} lines the primary wrote at the backend once each, in order, intact, within ${deliveryDelayMs} ms; ${problems.join("; ")}`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `all ${lastSeq} lines (${sent.length} requests) arrived once each, in order, byte for byte, ${roundMs(deliveredMs ?? 0, 0)} ms after the last was written`,
      evidence,
    };
  },
};

function countBy(values: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
