// Samples a pod's containers during a measured window: CPU time used (→ vCPU and
// vCPU per 1000 req/s) and memory (average and peak), plus CFS throttling.
import type { ContainerStats, StartedPod } from "../runtime/pod-runtime.ts";

export interface ContainerUsage {
  container: string;
  source: ContainerStats["source"];
  windowMs: number;
  cpuSeconds: number;
  /** Average cores busy over the window. */
  vcpu: number;
  memoryAvgMiB: number;
  memoryPeakMiB: number;
  throttledPeriods: number;
  samples: number;
}

const MIB = 1024 * 1024;

export class ResourceSampler {
  private readonly samples = new Map<string, ContainerStats[]>();
  private timer: NodeJS.Timeout | null = null;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pod: StartedPod,
    private readonly containers: string[],
    private readonly intervalMs = 250,
  ) {}

  async start(): Promise<void> {
    await this.sampleAll();
    this.timer = setInterval(() => {
      this.pending = this.pending.then(() => this.sampleAll());
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<ContainerUsage[]> {
    if (this.timer) clearInterval(this.timer);
    await this.pending;
    await this.sampleAll();
    return this.containers.map((container) => usageOf(container, this.samples.get(container) ?? []));
  }

  private async sampleAll(): Promise<void> {
    for (const container of this.containers) {
      try {
        const stats = await this.pod.stats(container);
        this.samples.set(container, [...(this.samples.get(container) ?? []), stats]);
      } catch {
        // A container that is restarting has no figures for this instant.
      }
    }
  }
}

export function usageOf(container: string, samples: ContainerStats[]): ContainerUsage {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) {
    return { container, source: "proc", windowMs: 0, cpuSeconds: 0, vcpu: 0, memoryAvgMiB: 0, memoryPeakMiB: 0, throttledPeriods: 0, samples: 0 };
  }
  const windowMs = last.sampledAtMs - first.sampledAtMs;
  const cpuSeconds = Math.max(0, last.cpuUsageUs - first.cpuUsageUs) / 1_000_000;
  const memories = samples.map((s) => s.memoryBytes / MIB);
  return {
    container,
    source: last.source,
    windowMs,
    cpuSeconds,
    vcpu: windowMs > 0 ? cpuSeconds / (windowMs / 1000) : 0,
    memoryAvgMiB: memories.reduce((a, b) => a + b, 0) / memories.length,
    memoryPeakMiB: Math.max(...memories),
    throttledPeriods: Math.max(0, (last.throttledPeriods ?? 0) - (first.throttledPeriods ?? 0)),
    samples: samples.length,
  };
}

/** vCPU per 1000 requests per second, as Istio publishes sidecar cost. */
export function vcpuPer1kRps(usage: ContainerUsage, achievedRatePerSec: number): number {
  return achievedRatePerSec > 0 ? usage.vcpu / (achievedRatePerSec / 1000) : NaN;
}
