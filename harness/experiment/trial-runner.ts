// One trial: drive the workload at one arm's pod for a fixed window while sampling
// the pod's containers, and turn both into a TrialResult (a plain value).
import { encodeHistogram } from "../measure/histogram.ts";
import { ResourceSampler, vcpuPer1kRps } from "../measure/resource-sampler.ts";
import { runClosedLoop } from "../load/closed-loop.ts";
import type { HttpRequestSpec } from "../load/kserve-request.ts";
import { runOpenLoop } from "../load/open-loop.ts";
import type { TrialResult } from "../report/results-model.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import type { LoadModel } from "../scenario/index.ts";

export interface TrialInput {
  sequence: number;
  arm: string;
  round: number | null;
  warmup: boolean;
  pod: StartedPod;
  entry: { container: string; port: string };
  request: HttpRequestSpec;
  load: LoadModel;
  durationMs: number;
  minRequests: number;
  seed: number;
  maxRateShortfallPct: number;
  signal?: AbortSignal;
}

/** A trial lasts its duration, stretched so that it also reaches the minimum request count. */
export function trialDurationMs(load: LoadModel, durationMs: number, minRequests: number): number {
  if (load.mode !== "open") return durationMs;
  return Math.max(durationMs, Math.ceil((minRequests / load.ratePerSec) * 1000));
}

export async function runTrial(input: TrialInput): Promise<TrialResult> {
  const { pod, load } = input;
  const containers = pod.spec.containers.map((c) => c.name);
  const sampler = new ResourceSampler(pod, containers);
  const url = pod.url(input.entry.container, input.entry.port);
  const durationMs = trialDurationMs(load, input.durationMs, input.minRequests);
  await sampler.start();
  let result: Omit<TrialResult, "resources">;
  if (load.mode === "open") {
    const { summary, histograms } = await runOpenLoop({
      url,
      request: input.request,
      ratePerSec: load.ratePerSec,
      arrival: load.arrival,
      seed: input.seed,
      durationMs,
      // The schedule ends at durationMs; the cap only guards against a runaway Poisson draw.
      maxRequests: Math.ceil(load.ratePerSec * (durationMs / 1000) * 1.5) + 100,
      timeoutMs: load.timeoutMs,
      maxConnections: load.maxConnections,
      rateShortfallThresholdPct: input.maxRateShortfallPct,
      signal: input.signal,
    });
    result = {
      ...identity(input),
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
    };
  } else {
    const { summary, latency } = await runClosedLoop({
      url,
      request: input.request,
      connections: load.connections,
      durationMs,
      maxRequests: Math.max(load.connections, 10_000_000),
      timeoutMs: load.timeoutMs,
      signal: input.signal,
    });
    result = {
      ...identity(input),
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
    };
  }
  const usage = await sampler.stop();
  return {
    ...result,
    resources: usage.map((u) => ({ ...u, vcpuPer1kRps: vcpuPer1kRps(u, result.load.achievedRatePerSec) })),
  };
}

function identity(input: TrialInput) {
  return { sequence: input.sequence, arm: input.arm, pod: input.pod.spec.name, warmup: input.warmup, round: input.round };
}
