// logs.rotation-rename-create and logs.rotation-copytruncate: the primary writes a burst of
// logBurstLines lines, spread over a few seconds, and the check rotates its access log twice
// while it writes (after about a third and two thirds of the lines), the way logrotate does
// (POST /v2/debug/log/rotate): rename + create, or copytruncate. Every line of the burst's
// seq range — the burst's, and the probes' and rotation requests' between them — must
// arrive once, in order, intact, within the policy's logs.deliveryDelayMs.
//
// The primary makes each rotation atomic with respect to its writes (one lock: no line is
// written between the copy and the truncate, nor to a descriptor being swapped), so a line
// lost or repeated at a rotation is the shipper's doing. Anchor: Vector's correctness
// harness, file source "rotate create" and "rotate truncate".
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import { expectedTextOf } from "./expected-lines.ts";
import { analyseDelivery, deliveryLatencyMs, deliveryProblems, seqRange } from "./line-analysis.ts";
import { BackendLogs, PrimaryLog, roleBackend } from "./log-pod.ts";

export type RotationMode = "rename" | "copytruncate";

/** Each line ~200 bytes, as an access log's. */
const PAD_BYTES = 200;
/**
 * A pause after each line: the burst lasts ≈ lines × (1 ms + the event loop's turn), 2–4 s for
 * 2000 lines, so each rotation falls among lines being written and the two are far enough
 * apart (≈ 1 s) for a shipper polling every 200 ms (the OpenTelemetry filelog receiver's
 * default) to see each one — two rotations between two polls is a harder case no shipper
 * with a fixed list of files can handle.
 */
const GAP_MS = 1;
const PROGRESS_POLL_MS = 20;
const ROTATIONS = 2;

interface Rotation {
  /** The last line written before the rotation. */
  lastSeqBefore: number;
  atMs: number;
}

export function rotationCheck(mode: RotationMode, spec: { id: string; faultyFixture: string; description: string }): ConformanceTest {
  return {
    id: spec.id,
    description: spec.description,
    profile: "logs",
    level: "core",
    primaryServes: ["role-emitters"],
    features: [],
    faultyFixture: spec.faultyFixture,
    timeoutMs: 60_000,
    detection: observationClaim(`1 burst of logBurstLines lines with ${ROTATIONS} ${mode} rotations in it`),
    async run(context): Promise<CheckOutcome> {
      const sidecar = sidecarContainer(context);
      const deliveryDelayMs = context.policy.logs.deliveryDelayMs;
      const lines = context.config.logBurstLines;
      const pod = await context.startPod();
      const primary = PrimaryLog.of(pod, context.signal);
      const start = await primary.state();
      const began = performance.now();
      // Generous: the burst's own pace is ~1–2 ms per line.
      const burstTimeoutMs = 10_000 + lines * (GAP_MS + 5);
      const writing = primary.burst({ lines, msg: `a line of a burst around ${mode} rotations`, padBytes: PAD_BYTES, gapMs: GAP_MS }, burstTimeoutMs);
      let finished = false;
      void writing.then(
        () => (finished = true),
        () => (finished = true),
      );
      const rotations: Rotation[] = [];
      for (let index = 1; index <= ROTATIONS && !finished; index++) {
        const target = start.lastSeq + Math.round((lines * index) / (ROTATIONS + 1));
        const maxPolls = Math.ceil(burstTimeoutMs / PROGRESS_POLL_MS);
        for (let poll = 0; poll < maxPolls && !finished && (await primary.state()).lastSeq < target; poll++) await pause(PROGRESS_POLL_MS, context.signal);
        if (finished) break;
        rotations.push({ lastSeqBefore: await primary.rotate(mode), atMs: roundMs(performance.now() - began) });
      }
      const burst = await writing;
      const writtenAtMs = performance.now();
      // A rotation after the burst's last line would test nothing: the check could not place it.
      const inside = rotations.filter((r) => r.lastSeqBefore >= burst.firstSeq && r.lastSeqBefore < burst.lastSeq);
      if (inside.length < ROTATIONS) {
        throw new Error(
          `${spec.id}: the primary wrote its ${lines} lines (seq ${burst.firstSeq}–${burst.lastSeq}) in ${roundMs(writtenAtMs - began, 0)} ms, before the check could ` +
            `rotate ${ROTATIONS} times inside them (rotations after seq ${rotations.map((r) => r.lastSeqBefore).join(", ") || "none"}); raise logBurstLines`,
        );
      }
      const backend = new BackendLogs(roleBackend(pod, context.signal), start.run);
      const expected = seqRange(burst.firstSeq, burst.lastSeq);
      const deliveredMs = await backend.waitForSeqs(expected, deliveryDelayMs, context.signal);
      const arrivals = backend.arrivals();
      const report = analyseDelivery(arrivals, { seqs: expected, expectedText: expectedTextOf(start.run, { bursts: [burst] }) });
      const problems = deliveryProblems(report);
      const evidence = {
        run: start.run,
        mode,
        burst: { lines, firstSeq: burst.firstSeq, lastSeq: burst.lastSeq, writtenInMs: roundMs(writtenAtMs - began) },
        rotations,
        deliveredAfterLastWriteMs: deliveredMs === null ? null : roundMs(deliveredMs),
        deliveryDelayMs,
        recordsAtBackend: backend.count,
        droppedByBackend: backend.droppedByBackend,
        latencyFromTsMs: deliveryLatencyMs(arrivals.lines),
        report,
        sidecarLog: logTail(pod, sidecar),
      };
      const where = rotations.map((r) => `after seq ${r.lastSeqBefore}`).join(" and ");
      if (problems.length > 0) {
        return {
          verdict: "failed",
          message:
            `expected the ${expected.length} lines of seq ${burst.firstSeq}–${burst.lastSeq} once each, in order, intact, within ${deliveryDelayMs} ms, ` +
            `across ${mode} rotations ${where}; ${problems.join("; ")}`,
          evidence,
        };
      }
      return {
        verdict: "passed",
        message: `all ${expected.length} lines of seq ${burst.firstSeq}–${burst.lastSeq} arrived once each, in order, intact, across ${mode} rotations ${where}, ${roundMs(deliveredMs ?? 0, 0)} ms after the last was written`,
        evidence,
      };
    },
  };
}
