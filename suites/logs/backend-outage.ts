// logs.backend-outage: the backend's listener the sidecar exports to (syslog or OTLP) goes
// down for backendOutageMs while the primary writes, then comes back. What the sidecar
// does is what its manifest declares (spec.logs.whenBackendDown):
// - buffer: every line — before, during and after the outage — arrives once, in order,
//   intact, within the policy's logs.deliveryDelayMs after the backend returned;
// - drop: lines written while the backend was down may be lost, and how many is reported;
//   none written before it, nor any after the first line it ships again (a shipper reads in
//   order: from then on it sends everything), may be; nothing arrives twice or out of order;
//   and it must ship again within deliveryDelayMs after the backend returned.
// A sidecar that declares buffer and drops fails; one that resends what the backend had
// already received (a duplicate at the reconnection) fails either way.
//
// The backend goes down right after the lines written before it have arrived: a shipper
// that has just delivered has nothing in flight (TCP syslog has no acknowledgement, so a
// batch written at the very moment of the reset could be lost without the sender knowing;
// the check does not test that race, only what the sidecar does while the backend is away).
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import type { Burst } from "./expected-lines.ts";
import { expectedTextOf } from "./expected-lines.ts";
import { analyseDelivery, deliveryProblems, seqRange, seqRanges, type Arrivals } from "./line-analysis.ts";
import { BackendLogs, exportService, PrimaryLog, roleBackend } from "./log-pod.ts";

const LINES_AROUND = 20;
const PAD_BYTES = 200;
/** drop: after the backend returns, a line every this often until one arrives (the sidecar resumed). */
const RESUME_PROBE_MS = 250;

export const backendOutage: ConformanceTest = {
  id: "logs.backend-outage",
  description:
    "The backend's listener the sidecar exports to is down for backendOutageMs while the primary writes roleRequests lines. whenBackendDown buffer: every line " +
    "arrives once, in order, intact, within the policy's logs.deliveryDelayMs after the backend returns. drop: the count lost while it was down is reported, " +
    "nothing written before the outage or after the sidecar resumed is lost, and nothing arrives twice or out of order.",
  profile: "logs",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/drop-when-down.yaml",
  timeoutMs: 90_000,
  detection: observationClaim("1 backend outage of backendOutageMs with lines written throughout"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const declared = context.sidecar.manifest.spec.logs?.whenBackendDown ?? "buffer";
    const service = exportService(context);
    const deliveryDelayMs = context.policy.logs.deliveryDelayMs;
    const outageMs = context.config.backendOutageMs;
    const outageLines = context.config.roleRequests;
    const pod = await context.startPod();
    const primary = PrimaryLog.of(pod, context.signal);
    const { run } = await primary.state();
    const backend = new BackendLogs(roleBackend(pod, context.signal), run);

    const before = await primary.burst({ lines: LINES_AROUND, msg: "written before the outage", padBytes: PAD_BYTES });
    const settledMs = await backend.waitForSeqs(seqRange(before.firstSeq, before.lastSeq), deliveryDelayMs, context.signal);
    if (settledMs === null) {
      return {
        verdict: "failed",
        message: `expected the sidecar to ship while the backend is up; the ${LINES_AROUND} lines written before the outage were not all at the backend within ${deliveryDelayMs} ms`,
        evidence: { run, report: analyseDelivery(backend.arrivals(), { seqs: seqRange(before.firstSeq, before.lastSeq) }), sidecarLog: logTail(pod, sidecar) },
      };
    }

    const recordsAtDown = backend.count;
    const downAt = performance.now();
    await backend.backend.setState(service, "down");
    // Spread over the outage: the sidecar reads lines all along while it cannot send them.
    const gapMs = Math.max(0, Math.floor(outageMs / outageLines));
    const during = await primary.burst({ lines: outageLines, msg: "written while the backend is down", padBytes: PAD_BYTES, gapMs }, outageMs * 2 + 10_000);
    await pause(Math.max(0, outageMs - (performance.now() - downAt)), context.signal);
    await backend.backend.setState(service, "up");
    const upAt = performance.now();
    const after = await primary.burst({ lines: LINES_AROUND, msg: "written after the backend returned", padBytes: PAD_BYTES });
    const bursts: Burst[] = [before, during, after];

    let lastWritten = after.lastSeq;
    let resumedMs: number | null;
    if (declared === "buffer") {
      resumedMs = await backend.waitForSeqs(seqRange(before.firstSeq, lastWritten), deliveryDelayMs, context.signal);
    } else {
      // A dropping sidecar may lose the lines written before it reconnects; it must ship again, and from then on lose nothing.
      resumedMs = null;
      const maxProbes = Math.ceil(deliveryDelayMs / RESUME_PROBE_MS) + 1;
      for (let probe = 0; probe < maxProbes && resumedMs === null; probe++) {
        const marker = await primary.burst({ lines: 1, msg: "written after the backend returned: has the sidecar resumed?", padBytes: PAD_BYTES });
        bursts.push(marker);
        lastWritten = marker.lastSeq;
        if ((await backend.waitForSeqs([marker.lastSeq], RESUME_PROBE_MS, context.signal)) !== null) resumedMs = performance.now() - upAt;
      }
      if (resumedMs !== null) {
        const { resumedAtSeq } = droppedSpan(backend.arrivals(), recordsAtDown, lastWritten);
        await backend.waitForSeqs(seqRange(resumedAtSeq, lastWritten), deliveryDelayMs, context.signal);
      }
    }

    const arrivals = backend.arrivals();
    const all = seqRange(before.firstSeq, lastWritten);
    const expectedText = expectedTextOf(run, { bursts });
    const lostWhileDown = declared === "drop" ? droppedSpan(arrivals, recordsAtDown, lastWritten) : null;
    const lost = new Set(lostWhileDown === null ? [] : seqRange(lostWhileDown.resumedAtSeq - lostWhileDown.lost, lostWhileDown.resumedAtSeq - 1));
    const required = all.filter((seq) => !lost.has(seq));
    const report = analyseDelivery(arrivals, { seqs: required, expectedText });
    const problems = deliveryProblems(report);
    if (declared === "drop" && resumedMs === null) problems.unshift(`the sidecar never shipped again within ${deliveryDelayMs} ms after the backend returned`);
    const evidence = {
      run,
      declared,
      service,
      outageMs: roundMs(upAt - downAt),
      lines: { before: [before.firstSeq, before.lastSeq], during: [during.firstSeq, during.lastSeq], after: [after.firstSeq, lastWritten] },
      deliveredAfterBackendReturnedMs: resumedMs === null ? null : roundMs(resumedMs),
      deliveryDelayMs,
      ...(lostWhileDown ? { droppedAsDeclared: { count: lostWhileDown.lost, seqs: lostWhileDown.ranges, firstSeqAfterResuming: lostWhileDown.resumedAtSeq } } : {}),
      recordsAtBackend: backend.count,
      droppedByBackend: backend.droppedByBackend,
      report,
      sidecarLog: logTail(pod, sidecar),
    };
    const span = `seq ${before.firstSeq}–${lastWritten} (${during.lastSeq - during.firstSeq + 1} written while the backend was down for ${roundMs(upAt - downAt, 0)} ms)`;
    if (problems.length > 0) {
      const expectation =
        declared === "buffer"
          ? `the sidecar declares whenBackendDown: buffer, so expected every line of ${span} once each, in order, intact, within ${deliveryDelayMs} ms after the backend returned`
          : `the sidecar declares whenBackendDown: drop, so expected the lines written before the outage and after it resumed once each, nothing twice or out of order, ${span}`;
      return { verdict: "failed", message: `${expectation}; ${problems.join("; ")}`, evidence };
    }
    return {
      verdict: "passed",
      message:
        declared === "buffer"
          ? `buffered as declared: every line of ${span} arrived once each, in order, intact, ${roundMs(resumedMs ?? 0, 0)} ms after the backend returned`
          : `dropped as declared: ${lostWhileDown!.lost} lines lost while the backend was down (seq ${lostWhileDown!.ranges || "none"}); the sidecar shipped again ` +
            `${roundMs(resumedMs ?? 0, 0)} ms after the backend returned, and every other line of ${span} arrived once, in order, intact`,
      evidence,
    };
  },
};

/**
 * For a dropping sidecar: the last line delivered before the outage is the newest among the
 * records that arrived before it (`recordsAtDown`); the sidecar resumed with the first newer
 * line that arrived afterwards (it reads in order: from then on it sends everything), and
 * the lines in between, which it never sent, are the ones it dropped.
 */
export function droppedSpan(arrivals: Arrivals, recordsAtDown: number, lastWritten: number): { lost: number; ranges: string; resumedAtSeq: number } {
  let lastDelivered = Number.NEGATIVE_INFINITY;
  for (const line of arrivals.lines) if (line.index < recordsAtDown) lastDelivered = Math.max(lastDelivered, line.seq);
  let resumedAtSeq = lastWritten + 1;
  for (const line of arrivals.lines) if (line.index >= recordsAtDown && line.seq > lastDelivered) resumedAtSeq = Math.min(resumedAtSeq, line.seq);
  const lost = Number.isFinite(lastDelivered) ? seqRange(lastDelivered + 1, resumedAtSeq - 1) : [];
  return { lost: lost.length, ranges: seqRanges(lost), resumedAtSeq };
}
