// logs.last-lines-after-exit: the lines the primary writes last — right before the pod's
// stop, and its final {"event":"shutdown"} line written as it exits on SIGTERM — reach the
// backend before the sidecar exits on its own SIGTERM, within the grace period. A shipper
// that batches (as most do) holds them when its SIGTERM comes; it must read the file to
// its end and send what it holds before it exits.
//
// Sequence: requests, then one "settle" line whose arrival shows the sidecar caught up
// (what follows starts a fresh batch), then a burst of final lines and at once the stop:
// SIGTERM to the primary (it writes its shutdown line), its exit, SIGTERM to the sidecar,
// its exit — held-stop.ts, which leaves the backend running so it can be read after the
// sidecar has gone (pod.stop() would stop it a few ms after) — and then the backend is read.
// On kubernetes the kubelet stops the pod itself (held-stop.ts, stopThroughRuntime) and the
// backend is read through its linger.
// Judged: every line after the settle line up to the shutdown line, once, in order, intact.
import { randomBytes } from "node:crypto";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { formatEvents, logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import { expectedTextOf } from "./expected-lines.ts";
import { restartBegan, stopHoldingBackend, stopThroughRuntime } from "./held-stop.ts";
import { analyseDelivery, deliveryProblems, seqRange, type ReceivedLine } from "./line-analysis.ts";
import { BackendLogs, PrimaryLog, roleBackend, sendLoggedRequests } from "./log-pod.ts";
import { stringMember } from "./primary-json.ts";

/** Requests before the stop: the shipper is in its steady state, not idle since start. */
const REQUESTS = 20;
const FINAL_LINES = 50;
const FINAL_PAD_BYTES = 200;
/** How often the backend is read during the stop. */
const FOLLOW_MS = 50;

export const lastLinesAfterExit: ConformanceTest = {
  id: "logs.last-lines-after-exit",
  description:
    "The lines the primary writes last — a burst right before the pod's stop and its final shutdown line — are at the backend once the sidecar has " +
    "exited on its SIGTERM (after the primary's exit, within the grace period): read to the end of the file and sent, not dropped with the process.",
  profile: "logs",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/exit-without-draining.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 pod stop right after a burst of final lines"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const graceMs = context.config.podGracePeriodMs;
    const deliveryDelayMs = context.policy.logs.deliveryDelayMs;
    const pod = await context.startPod({ terminationGracePeriodMs: graceMs });
    const primary = PrimaryLog.of(pod, context.signal);
    const { run } = await primary.state();
    const backend = new BackendLogs(roleBackend(pod, context.signal), run);
    await sendLoggedRequests(context, context.directUrl(pod), REQUESTS, `last-${randomBytes(3).toString("hex")}`);
    const settle = await primary.burst({ lines: 1, msg: "settle: everything before this line is shipped" });
    const settledMs = await backend.waitForSeqs([settle.lastSeq], deliveryDelayMs, context.signal);
    if (settledMs === null) {
      return {
        verdict: "failed",
        message: `expected the sidecar to ship while the pod runs; line ${settle.lastSeq}, written before the stop, was not at the backend within ${deliveryDelayMs} ms`,
        evidence: { run, recordsAtBackend: backend.count, sidecarLog: logTail(pod, sidecar) },
      };
    }
    const final = await primary.burst({ lines: FINAL_LINES, msg: "a final line, written right before the stop", padBytes: FINAL_PAD_BYTES });
    const eventsBeforeStop = pod.events().length;
    // Read all along too: where the runtime stops the backend itself once the primary has
    // exited (Kubernetes ends a pod's sidecars when its main containers have completed),
    // the reads before it went still count (held-stop.ts).
    const stopping = context.runtime === "kubernetes" ? stopThroughRuntime(pod, sidecar) : stopHoldingBackend(pod, sidecar, graceMs, context.signal);
    const { value: stop, lastReadOk, failedReads } = await backend.followDuring(stopping, FOLLOW_MS, context.signal);
    const restarted = restartBegan(pod.events(), sidecar, stop.eventsAtSidecarExit);
    const stopEvents = formatEvents(pod.events().slice(eventsBeforeStop));
    await pod.stop();

    const arrivals = backend.arrivals();
    const shutdown = arrivals.lines.find((line: ReceivedLine) => stringMember(line.tree, "event") === "shutdown" && line.seq > final.lastSeq);
    // Without its shutdown line the range ends at the last line the check knows was written.
    const expected = seqRange(settle.lastSeq + 1, shutdown?.seq ?? final.lastSeq);
    const report = analyseDelivery(arrivals, { seqs: expected, expectedText: expectedTextOf(run, { bursts: [final] }) });
    const problems = deliveryProblems(report);
    if (!shutdown) problems.unshift(`the primary's shutdown line (after seq ${final.lastSeq}) never arrived`);
    if (stop.primaryKilled) problems.push(`the primary was still running at the end of the ${graceMs} ms grace period (SIGKILL)`);
    if (stop.sidecarKilled) problems.push(`the sidecar was still running at the end of the ${graceMs} ms grace period and was killed: what it held was lost with it`);
    if (problems.length > 0 && !lastReadOk && !stop.primaryKilled && !stop.sidecarKilled) {
      // The backend went away before it could be read after the sidecar's exit: lines sent in the sidecar's last moments may have reached it unseen.
      return {
        verdict: "skipped",
        message:
          `the backend could not be read after the sidecar had exited (the runtime stopped it; ${failedReads} reads failed), so lines sent in the sidecar's ` +
          `last moments cannot be judged; what the reads before showed: ${problems.join("; ")}`,
        evidence: { run, stopEvents, recordsAtBackend: backend.count, report, sidecarLog: logTail(pod, sidecar) },
      };
    }
    const evidence = {
      run,
      graceMs,
      settleLine: settle.lastSeq,
      settledAfterMs: roundMs(settledMs),
      finalBurst: { firstSeq: final.firstSeq, lastSeq: final.lastSeq },
      shutdownSeq: shutdown?.seq ?? null,
      primaryExitAfterSigtermMs: stop.primaryExitMs === null ? null : roundMs(stop.primaryExitMs),
      sidecarExitAfterSigtermMs: stop.sidecarExitMs === null ? null : roundMs(stop.sidecarExitMs),
      sidecarRestartBeganBeforeTheRead: restarted,
      backendReadAfterSidecarExit: lastReadOk,
      failedBackendReads: failedReads,
      stopEvents,
      recordsAtBackend: backend.count,
      report,
      sidecarLog: logTail(pod, sidecar),
    };
    if (problems.length > 0) {
      return {
        verdict: "failed",
        message: `expected the primary's last ${expected.length} lines (seq ${expected[0]}–${expected[expected.length - 1]}, its shutdown line last) at the backend when the sidecar had exited; ${problems.join("; ")}`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message:
        `the primary's last ${expected.length} lines, its shutdown line (seq ${shutdown!.seq}) included, were at the backend when the sidecar exited ` +
        `${roundMs(stop.sidecarExitMs ?? 0, 0)} ms after its SIGTERM (the primary ${roundMs(stop.primaryExitMs ?? 0, 0)} ms after its own)`,
      evidence,
    };
  },
};
