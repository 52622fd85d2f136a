// Measured windows. Open loop: one round drives every arm, alternating in short slots
// on one arrival schedule, while sampling every pod involved; closed loop: one trial
// drives one arm. Both return TrialResults (plain values), one per arm.
import { encodeHistogram } from "../measure/histogram.ts";
import { ResourceSampler, vcpuPer1kRps, type ContainerUsage } from "../measure/resource-sampler.ts";
import type { HttpRequestSpec } from "../load/kserve-request.ts";
import { runClosedLoop } from "../load/closed-loop.ts";
import type { OpenLoopDriver } from "../load/open-loop-driver.ts";
import type { TrialResult } from "../report/results-model.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import type { LoadModel } from "../scenario/index.ts";

type OpenLoad = Extract<LoadModel, { mode: "open" }>;
type ClosedLoad = Extract<LoadModel, { mode: "closed" }>;

export const TOKEN_STREAM_NEEDS_OPEN_LOOP =
  "spec.workload.request.kind generate_stream needs spec.workload.load.mode open: only the open loop times tokens (time to first token, inter-token latency)";

/** One arm of an experiment: a name, the pod it is measured on, and where requests enter. */
export interface Arm {
  name: string;
  pod: StartedPod;
  entry: { container: string; port: string };
}

/** Measured time per arm: its duration, stretched so that it also reaches the minimum request count. */
export function armDurationMs(load: LoadModel, durationMs: number, minRequests: number): number {
  if (load.mode !== "open") return durationMs;
  return Math.max(durationMs, Math.ceil((minRequests / load.ratePerSec) * 1000));
}

export interface RoundInput {
  firstSequence: number;
  round: number | null;
  warmup: boolean;
  arms: Arm[];
  /** Arm index per slot (see planRoundSlots). */
  slotOrder: number[];
  slotMs: number;
  request: HttpRequestSpec;
  load: OpenLoad;
  seed: number;
  maxRateShortfallPct: number;
  /** Who sends the round: the harness itself, or a generator beside the pods (kubernetes). */
  driver: OpenLoopDriver;
  signal?: AbortSignal;
}

export async function runOpenRound(input: RoundInput): Promise<TrialResult[]> {
  const { arms, load } = input;
  const pods = [...new Set(arms.map((arm) => arm.pod))];
  const samplers = pods.map((pod) => new ResourceSampler(pod, pod.spec.containers.map((c) => c.name)));
  await Promise.all(samplers.map((s) => s.start()));
  const outcomes = await input.driver.run({
    targets: arms.map((arm) => ({ url: input.driver.targetUrl(arm.pod, arm.entry.container, arm.entry.port), request: input.request })),
    slotMs: input.slotMs,
    slotOrder: input.slotOrder,
    ratePerSec: load.ratePerSec,
    arrival: load.arrival,
    seed: input.seed,
    // The schedule ends with the last slot; the cap only guards against a runaway Poisson draw.
    maxRequests: Math.ceil(load.ratePerSec * ((input.slotMs * input.slotOrder.length) / 1000) * 1.5) + 100,
    timeoutMs: load.timeoutMs,
    maxConnections: load.maxConnections,
    rateShortfallThresholdPct: input.maxRateShortfallPct,
    signal: input.signal,
  });
  const usages = await Promise.all(samplers.map((s) => s.stop()));
  return arms.map((arm, index) => {
    const { summary, histograms } = outcomes[index]!;
    const podIndex = pods.indexOf(arm.pod);
    // A pod shared by two arms (baseline and its A/A twin) served both arms' requests in
    // the window: its CPU is divided by all of them.
    const podOkPerSec = arms.reduce((sum, other, i) => (other.pod === arm.pod ? sum + outcomes[i]!.summary.ok : sum), 0) / (usages[podIndex]![0]!.windowMs / 1000 || 1);
    return {
      sequence: input.firstSequence + index,
      arm: arm.name,
      pod: arm.pod.spec.name,
      warmup: input.warmup,
      round: input.round,
      startedAt: summary.startedAt,
      durationMs: summary.durationMs,
      load: {
        mode: "open",
        targetRatePerSec: summary.targetRatePerSec,
        achievedRatePerSec: summary.achievedRatePerSec,
        rateShortfallPct: summary.rateShortfallPct,
        rateShortfall: summary.rateShortfall,
        scheduled: summary.scheduled,
        completed: summary.completed,
        ok: summary.ok,
        errors: summary.errors,
        connections: summary.maxConnections,
      },
      latencyUs: summary.latencyUs,
      serviceTimeUs: summary.serviceTimeUs,
      pacingErrorUs: summary.pacingErrorUs,
      histograms: {
        latency: encodeHistogram(histograms.latency),
        serviceTime: encodeHistogram(histograms.serviceTime),
        pacingError: encodeHistogram(histograms.pacingError),
      },
      // The pod was loaded only during its arms' slots: vCPU is stated at this arm's rate
      // (cost per request × rate), not averaged over slots in which it idled.
      resources: withCost(usages[podIndex]!, podOkPerSec).map((r) => ({ ...r, vcpu: (r.vcpuPer1kRps * summary.achievedRatePerSec) / 1000 })),
      ...(summary.stream && histograms.stream
        ? {
            stream: {
              ...summary.stream,
              histograms: {
                ttft: encodeHistogram(histograms.stream.ttft),
                ttftService: encodeHistogram(histograms.stream.ttftService),
                itl: encodeHistogram(histograms.stream.itl),
              },
            },
          }
        : {}),
    } satisfies TrialResult;
  });
}

export interface ClosedTrialInput {
  sequence: number;
  round: number | null;
  warmup: boolean;
  arm: Arm;
  request: HttpRequestSpec;
  load: ClosedLoad;
  durationMs: number;
  signal?: AbortSignal;
}

export async function runClosedTrial(input: ClosedTrialInput): Promise<TrialResult> {
  const { arm, load } = input;
  // The closed loop only reads where each answer ends: it cannot time tokens.
  if (input.request.tokenStream) throw new Error(TOKEN_STREAM_NEEDS_OPEN_LOOP);
  const sampler = new ResourceSampler(arm.pod, arm.pod.spec.containers.map((c) => c.name));
  await sampler.start();
  // The native engine's own process: the sampler's synchronous reads here cannot stall its responses.
  const { summary, latency } = await runClosedLoop({
    url: arm.pod.url(arm.entry.container, arm.entry.port),
    request: input.request,
    connections: load.connections,
    durationMs: input.durationMs,
    // Bounded in count as well as time; at 10 M requests the duration always ends first here.
    maxRequests: Math.max(load.connections, 10_000_000),
    timeoutMs: load.timeoutMs,
    signal: input.signal,
  });
  const usage = await sampler.stop();
  return {
    sequence: input.sequence,
    arm: arm.name,
    pod: arm.pod.spec.name,
    warmup: input.warmup,
    round: input.round,
    startedAt: summary.startedAt,
    durationMs: summary.durationMs,
    load: {
      mode: "closed",
      targetRatePerSec: null,
      achievedRatePerSec: summary.okPerSec,
      rateShortfallPct: null,
      rateShortfall: false,
      scheduled: summary.requests,
      completed: summary.requests,
      ok: summary.ok,
      errors: summary.errors,
      connections: summary.connections,
    },
    // Closed loop: the client waits for each answer, so latency and service time coincide.
    latencyUs: summary.latencyUs,
    serviceTimeUs: summary.latencyUs,
    pacingErrorUs: null,
    histograms: { latency: encodeHistogram(latency), serviceTime: null, pacingError: null },
    resources: withCost(usage, summary.okPerSec),
  };
}

function withCost(usage: ContainerUsage[], okPerSec: number): TrialResult["resources"] {
  return usage.map((u) => ({ ...u, vcpuPer1kRps: vcpuPer1kRps(u, okPerSec) }));
}
