// telemetry.backend-outage: the backend goes away for context.config.backendOutageMs under a
// steady load on the primary. Judged by the policy (context.policy.telemetry):
// - the sidecar's memory grows by at most outageGrowthMiB (its highest sample while the
//   backend is down against its median before): a sidecar that queues without bound is
//   OOM-killed by a real limit in a longer outage;
// - the primary's median latency while the backend is down is at most outageLatencyRatio ×
//   its median over the windows just before and just after the outage: losing its telemetry
//   backend must not slow the primary's own work. On a shared 2-core machine another
//   process's burst can inflate one window's median, so an excess (and nothing else wrong)
//   is confirmed on a second outage and fails only if it repeats;
// - once the backend is back, what the sidecar declared (spec.telemetry.whenBackendDown)
//   happens within deliveryDelayMs: `buffer` — every count and every span the primary made
//   arrives (one that declares buffer and loses data fails); `drop` — the counts catch up
//   (cumulative counters carry the total with the next export) and the spans lost are
//   reported, not failed.
// "The backend down": for otlp-http the reference backend's OTLP listener is closed
// (connections refused, open ones reset). For an exposition nothing is pushed, so there is
// no backend for the sidecar to lose; the nearest real event — Prometheus gone — is the
// metrics-backend frozen (SIGSTOP, then SIGCONT): no pressure on a well-behaved exposition
// (its memory and the primary must not notice), and the counts Prometheus reads after it
// returns must be whole. For remote-write the same freeze makes the receiver hang rather
// than refuse, a harder outage for the sender's queue.
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceContext, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import type { PhasedRequest } from "./steady-load.ts";
import { METRICS_BACKEND_CONTAINER } from "../../harness/scenario/role-wiring.ts";
import { thinSamples } from "../support/memory-series.ts";
import { pause } from "../support/bounded-wait.ts";
import { sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import { describeProblems, excesses, shortfallSummary, shortfalls } from "./count-comparison.ts";
import { exportOf, roleBackend } from "./delivered.ts";
import { awaitDelivery } from "./delivery-wait.ts";
import { primaryCounts, totalCount } from "./role-traffic.ts";
import { outageLatency, outageMemory, startSteadyLoad, type Phase } from "./steady-load.ts";
import { logsEvidence, readingEvidence, trafficEvidence } from "./telemetry-evidence.ts";

/** 40 requests per second, one at a time on a kept-alive connection: steady, far below the primary's capacity. */
const LOAD_GAP_MS = 25;
const MEMORY_SAMPLE_MS = 250;
/** Connection opened and code paths warmed before the baseline. */
const WARM_UP_MS = 1_000;
/** The baseline windows around the outage: latency and memory just before it, latency just after the backend's return. */
const BEFORE_MS = 3_000;
const AFTER_MS = 2_000;

interface Outage {
  how: string;
  down(): Promise<void>;
  up(): Promise<void>;
}

function outageFor(context: ConformanceContext, pod: StartedPod): Outage {
  if (exportOf(context) === "otlp-http") {
    const backend = roleBackend(context, pod);
    return {
      how: "the reference backend's OTLP listener closed (connections refused, open ones reset)",
      down: async () => void (await backend.setState("otlp", "down")),
      up: async () => void (await backend.setState("otlp", "up")),
    };
  }
  return {
    how: "Prometheus (metrics-backend) frozen with SIGSTOP, then SIGCONT",
    down: async () => pod.signal(METRICS_BACKEND_CONTAINER, "SIGSTOP"),
    up: async () => pod.signal(METRICS_BACKEND_CONTAINER, "SIGCONT"),
  };
}

interface Observation {
  requests: PhasedRequest[];
  memory: ReturnType<typeof outageMemory>;
  memorySamples: Array<[number, number]>;
  memorySource: string;
  latency: ReturnType<typeof outageLatency>;
  timeline: string[];
  /** performance.now() when the backend came back. */
  upAtMs: number;
}

/** One outage under steady load: warm-up, before, the backend down for outageMs, after its return. */
async function observeOutage(context: ConformanceContext, pod: StartedPod, outage: Outage, firstIndex: number): Promise<Observation> {
  const outageMs = context.config.backendOutageMs;
  const load = startSteadyLoad(context, pod, {
    baseUrl: context.directUrl(pod),
    container: sidecarContainer(context),
    gapMs: LOAD_GAP_MS,
    memorySampleMs: MEMORY_SAMPLE_MS,
    maxDurationMs: WARM_UP_MS + BEFORE_MS + outageMs + AFTER_MS + 30_000,
    firstIndex,
  });
  const timeline: string[] = [];
  const began = performance.now();
  const mark = (phase: Phase) => {
    load.enter(phase);
    timeline.push(`${Math.round(performance.now() - began)} ms: ${phase}`);
  };
  let isDown = false;
  try {
    await pause(WARM_UP_MS, context.signal);
    mark("before");
    await pause(BEFORE_MS, context.signal);
    await outage.down();
    isDown = true;
    mark("down");
    await pause(outageMs, context.signal);
  } finally {
    // Whatever happened, the backend comes back (a frozen Prometheus would outlive the pod's grace).
    if (isDown) await outage.up();
  }
  const upAtMs = performance.now();
  mark("after");
  try {
    await pause(AFTER_MS, context.signal);
  } finally {
    mark("done");
  }
  const { requests, memory, memorySource } = await load.finished;
  return { requests, memory: outageMemory(memory), memorySamples: thinSamples(memory), memorySource, latency: outageLatency(requests), timeline, upAtMs };
}

function observationEvidence(o: Observation): Record<string, unknown> {
  return {
    timeline: o.timeline,
    memory: { source: o.memorySource, baselineMiB: roundMs(o.memory.baselineMiB), peakWhileDownMiB: roundMs(o.memory.peakMiB), growthMiB: roundMs(o.memory.growthMiB), samples: o.memorySamples },
    latency: {
      medianBeforeAndAfterMs: roundMs(o.latency.baselineMs, 2),
      medianWhileDownMs: roundMs(o.latency.downMs, 2),
      ratio: roundMs(o.latency.ratio, 2),
      answeredBeforeAndAfter: o.latency.answeredBaseline,
      answeredWhileDown: o.latency.answeredDown,
    },
  };
}

export const backendOutage: ConformanceTest = {
  id: "telemetry.backend-outage",
  description:
    "With the backend down for a while under steady load, the sidecar's memory grows at most the policy's telemetry.outageGrowthMiB, the primary's median latency stays " +
    "within outageLatencyRatio × its median just before and after the outage (an excess confirmed on a second outage), and once the backend is back what the sidecar declares happens within deliveryDelayMs: buffer — everything arrives; " +
    "drop — the counts catch up and the spans dropped are reported.",
  profile: "telemetry",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/unbounded-queue-when-down.yaml",
  timeoutMs: 75_000,
  detection: observationClaim("1 backend outage under steady load"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const { deliveryDelayMs, outageGrowthMiB, outageLatencyRatio } = context.policy.telemetry;
    const outageMs = context.config.backendOutageMs;
    const declared = context.sidecar.manifest.spec.telemetry?.whenBackendDown ?? "buffer";
    const pod = await context.startPod();
    const direct = context.directUrl(pod);
    const outage = outageFor(context, pod);
    const observations = [await observeOutage(context, pod, outage, 0)];
    // The latency is judged on a shared machine: a latency excess alone is confirmed on a
    // second outage, and fails only if it repeats (a sidecar that slows the primary when
    // its backend is down does so every time; a burst of another process's load rarely twice).
    const latencyOver = (o: Observation) => !(o.latency.ratio <= outageLatencyRatio);
    if (latencyOver(observations[0]!) && observations[0]!.memory.growthMiB <= outageGrowthMiB) {
      observations.push(await observeOutage(context, pod, outage, observations[0]!.requests.length));
    }
    const last = observations[observations.length - 1]!;
    const requests = observations.flatMap((o) => o.requests);
    const truth = await primaryCounts(context, direct);
    const deadlineMs = Math.max(0, deliveryDelayMs - (performance.now() - last.upAtMs));
    // A declared drop loses spans for good: only the counts are waited for.
    const reading = await awaitDelivery(context, pod, truth, { deadlineMs, settleMs: 0, ...(declared === "drop" ? { awaited: (p) => p.what !== "spans" } : {}) });

    // Memory: the worst outage; latency: the better one (see above).
    const mem = observations.map((o) => o.memory).reduce((a, b) => (b.growthMiB > a.growthMiB ? b : a));
    const latency = observations.map((o) => o.latency).reduce((a, b) => (b.ratio < a.ratio ? b : a));
    const failedDown = requests.filter((r) => r.phase === "down" && r.status !== r.expectStatus);
    const short = shortfalls(reading.comparison.problems);
    const metricShort = short.filter((p) => p.what !== "spans");
    const spanShort = short.filter((p) => p.what === "spans");
    const droppedSpans = spanShort.reduce((sum, p) => sum + p.expected - (p.found ?? 0), 0);

    // No figures is the harness's failure to measure, not the sidecar's to keep the rule: an error of the check.
    if (Number.isNaN(mem.growthMiB)) throw new Error(`no memory figures for the sidecar (${mem.samplesBefore} samples before the outage, ${mem.samplesDown} during)`);
    const problems: string[] = [];
    if (!(mem.growthMiB <= outageGrowthMiB)) {
      problems.push(
        `the sidecar's memory grew ${roundMs(mem.growthMiB)} MiB while the backend was down (${roundMs(mem.baselineMiB)} → ${roundMs(mem.peakMiB)} MiB), over the policy's ${outageGrowthMiB} MiB`,
      );
    }
    if (!(latency.ratio <= outageLatencyRatio)) {
      problems.push(
        `the primary's median latency was ${roundMs(latency.downMs, 2)} ms while the backend was down against ${roundMs(latency.baselineMs, 2)} ms just before and after ` +
          `(${roundMs(latency.ratio, 2)}×, over the policy's ${outageLatencyRatio}×${observations.length > 1 ? `, in both of ${observations.length} outages` : ""})`,
      );
    }
    if (failedDown.length > 0) problems.push(`${failedDown.length} requests to the primary failed or were answered otherwise while the backend was down`);
    if (declared === "buffer" && short.length > 0) {
      problems.push(`declared whenBackendDown buffer, but ${deliveryDelayMs} ms after the backend returned ${shortfallSummary(short)}: ${describeProblems(short)}`);
    } else if (declared === "drop" && metricShort.length > 0) {
      problems.push(`declared whenBackendDown drop, and the counts never caught up within ${deliveryDelayMs} ms of the backend's return: ${describeProblems(metricShort)}`);
    }

    const evidence = {
      outage: outage.how,
      outageMs,
      declared,
      outages: observations.map(observationEvidence),
      ...(declared === "drop" ? { droppedSpans } : {}),
      ...(excesses(reading.comparison.problems).length > 0 ? { excess: `${describeProblems(excesses(reading.comparison.problems))} (telemetry.counts-match's rule)` } : {}),
      ...trafficEvidence(requests, truth),
      ...readingEvidence(reading),
      ...logsEvidence(pod, sidecar),
    };
    const expectation =
      `expected the sidecar's memory to grow ≤ ${outageGrowthMiB} MiB with the backend down for ${outageMs} ms under steady load, the primary's median latency ≤ ${outageLatencyRatio}× its median around the outage, ` +
      `and (declared ${declared}) ${declared === "buffer" ? "everything" : "the counts"} at the backend within ${deliveryDelayMs} ms of its return`;
    if (problems.length > 0) return { verdict: "failed", message: `${expectation}; ${problems.join("; ")}`, evidence };
    const dropped = declared === "drop" ? `; it dropped ${droppedSpans} spans while the backend was down, as it declares` : "";
    return {
      verdict: "passed",
      message:
        `with the backend down ${outageMs} ms: memory ${mem.growthMiB >= 0 ? "+" : ""}${roundMs(mem.growthMiB)} MiB (≤ ${outageGrowthMiB}), the primary's median latency ${roundMs(latency.ratio, 2)}× its median around the outage (≤ ${outageLatencyRatio}` +
        `${observations.length > 1 ? `; on a second outage, the first's ${roundMs(observations[0]!.latency.ratio, 2)}× not repeated` : ""}), ` +
        `and the ${totalCount(truth)} counted requests whole at the backend ${Math.round(reading.completeAfterMs ?? reading.waitedMs)} ms after the load ended${dropped}`,
      evidence,
    };
  },
};
