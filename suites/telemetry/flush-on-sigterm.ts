// telemetry.flush-on-sigterm: what the sidecar holds when the pod stops reaches the backend
// before it exits. Requests, then at once pod.stop(): the primary gets SIGTERM and its SDK
// flushes its last metrics and spans to the sidecar as it exits; then the sidecar gets
// SIGTERM and must forward what it holds (its batch, its queue, that last flush) within
// the grace period before it exits; the backend stops last. Everything the primary counted
// must then be at the backend (missing or lower fails; too much is counts-match's rule,
// shown here as evidence). A sidecar with two paths for the metrics (OTLP pushed and
// /metrics scraped) is judged by the fuller one: the scrape cannot have seen the primary's
// last counts — the pull model's tail, not a flush the sidecar skipped.
//
// Reading the backend after the sidecar's exit: the backend gets SIGTERM the instant the
// sidecar has exited, so the check polls it through the stop. The reference backend
// closes its data ports on SIGTERM (nothing arrives after it) and keeps its control port
// answering while it is read, saying `stopping` (reference/backends/README.md): the first
// reading after it says so is final — taken after the sidecar exited, by construction.
// For remote-write the backend is Prometheus, which has no such lingering: the last
// answer its HTTP API gave before it stopped is judged, which may precede the sidecar's
// very last write (a sidecar that flushes is then failed wrongly, never a faulty one
// passed). Not applicable to an exposition, which Prometheus pulls (applicability.ts).
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import type { StartedPod, StoppedPod } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { pause } from "../support/bounded-wait.ts";
import { formatEvents, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import { pushesNothing } from "./applicability.ts";
import { compareCounts, describeProblems, excesses, shortfallSummary, shortfalls, type Delivered } from "./count-comparison.ts";
import { exportOf, readDelivered, roleBackend } from "./delivered.ts";
import { primaryCounts, sendPaced, totalCount } from "./role-traffic.ts";
import { deliveredEvidence, trafficEvidence } from "./telemetry-evidence.ts";

/** Poll period through the stop: well inside the backend's 500 ms linger while read. */
const STOP_POLL_MS = 25;

interface FinalReading {
  delivered: Delivered | undefined;
  /** How it was taken: after the backend said stopping, or the last answer before it stopped answering. */
  how: "after-backend-sigterm" | "last-answer" | "none";
  polls: number;
  errors: number;
}

/** Reads the backend through pod.stop() until its final state is known (see the header). */
async function readThroughStop(context: ConformanceContext, pod: StartedPod, stopping: Promise<StoppedPod>): Promise<FinalReading> {
  let stopped = false;
  void stopping.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const otlp = exportOf(context) === "otlp-http";
  const backend = roleBackend(context, pod, 2_000);
  const reading: FinalReading = { delivered: undefined, how: "none", polls: 0, errors: 0 };
  // Bounded by the stop (one grace period) and the backend's linger after it.
  const maxPolls = Math.ceil((context.config.podGracePeriodMs + 10_000) / STOP_POLL_MS);
  for (let poll = 0; poll < maxPolls; poll++) {
    reading.polls++;
    try {
      if (otlp) {
        if ((await backend.health()).stopping) {
          return { ...reading, delivered: await readDelivered(context, pod), how: "after-backend-sigterm" };
        }
      } else {
        reading.delivered = await readDelivered(context, pod);
        reading.how = "last-answer";
      }
    } catch {
      reading.errors++;
      // Gone: for otlp-http before it ever said stopping (no lingering backend); for remote-write, Prometheus stopped.
      if (stopped || reading.errors > 3) return reading;
    }
    if (stopped && !otlp) return reading;
    await pause(STOP_POLL_MS, context.signal);
  }
  return reading;
}

export const flushOnSigterm: ConformanceTest = {
  id: "telemetry.flush-on-sigterm",
  description:
    "Requests, then the pod stopped at once: the primary flushes to the sidecar on exit, and the sidecar forwards everything it holds on its SIGTERM, " +
    "within the grace period, so that the backend (stopped last) holds every count the primary made (and its spans); for sidecars that push (otlp-http, remote-write).",
  profile: "telemetry",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/no-flush-on-sigterm.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 pod stop right after the requests, the primary's last flush in the sidecar's hands"),
  notApplicable: pushesNothing,
  async run(context): Promise<CheckOutcome> {
    const notApplicable = pushesNothing(context.sidecar.manifest);
    if (notApplicable) return { verdict: "skipped", message: `not applicable: ${notApplicable}` };
    const sidecar = sidecarContainer(context);
    const graceMs = context.config.podGracePeriodMs;
    const pod = await context.startPod({ terminationGracePeriodMs: graceMs });
    const direct = context.directUrl(pod);
    const sent = await sendPaced(context, direct, { count: context.config.roleRequests, spreadMs: 0, timeoutMs: context.config.requestTimeoutMs, signal: context.signal });
    const truth = await primaryCounts(context, direct);
    const eventsBefore = pod.events().length;
    const stopAtMs = performance.now();
    const stopping = pod.stop();
    const [final, stopped] = await Promise.all([readThroughStop(context, pod, stopping), stopping]);
    const stopEvents = stopped.events.slice(eventsBefore);
    const sidecarEnd = stopped.containers.find((c) => c.name === sidecar);
    const evidence: Record<string, unknown> = {
      graceMs,
      stopDurationMs: roundMs(stopped.stopDurationMs),
      reading: { how: final.how, polls: final.polls, errors: final.errors, readAfterStopMs: roundMs(performance.now() - stopAtMs, 0) },
      ...trafficEvidence(sent, truth),
      ...(final.delivered ? { delivered: deliveredEvidence(final.delivered) } : {}),
      stopEvents: formatEvents(stopEvents.filter((e) => e.container === sidecar || e.container === PRIMARY_CONTAINER || e.type === "sigterm")),
      sidecar: sidecarEnd,
    };
    if (!final.delivered) {
      throw new Error(
        `could not read the backend after the sidecar exited: it never reported "stopping" (${final.polls} polls, ${final.errors} errors) — ` +
          "the reference backend must linger on SIGTERM (reference/backends/README.md)",
      );
    }
    // One path carrying the counts is enough here: a collector's scrape of /metrics cannot see the primary's last counts.
    const comparison = compareCounts(truth, final.delivered, { anyPath: true });
    const short = shortfalls(comparison.problems);
    const over = excesses(comparison.problems);
    if (over.length > 0) evidence["excess"] = `${describeProblems(over)} (telemetry.counts-match's rule)`;
    const expectation = `expected every count the primary made (${totalCount(truth)} requests) at the backend once the pod had stopped, the sidecar flushing on its SIGTERM within the ${graceMs} ms grace period`;
    if (short.length > 0) {
      const killed = sidecarEnd?.killed ? " (the sidecar was killed at the end of the grace period)" : "";
      return { verdict: "failed", message: `${expectation}; ${shortfallSummary(short)}${killed}: ${describeProblems(short)}`, evidence };
    }
    return {
      verdict: "passed",
      message: `every count the primary made (${totalCount(truth)} requests, ${comparison.matched} series and span label sets) was at the backend after the stop (${final.how === "after-backend-sigterm" ? "read after the backend's SIGTERM" : "the backend's last answer"})`,
      evidence,
    };
  },
};
