// A container's CPU, memory and throttling from the Docker stats API, in the units
// and with the memory rule of the local runtime's cgroup accounting.
import type Dockerode from "dockerode";
import type { ContainerStats } from "../pod-runtime.ts";

/** The fields of GET /containers/{id}/stats this reads (cgroup v1 and v2 engines). */
interface DockerStatsSample {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; throttling_data?: { throttled_periods?: number; throttled_time?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

export type StatsCounters = Omit<ContainerStats, "source" | "sampledAtMs" | "oomKills">;

export const ZERO_COUNTERS: StatsCounters = { cpuUsageUs: 0, memoryBytes: 0, throttledPeriods: 0, throttledUs: 0 };

/** One sample without waiting for a second one (one-shot, API 1.41+); an exited container reads as zero. */
export async function sampleDockerStats(dockerode: Dockerode, containerId: string): Promise<StatsCounters> {
  const options = { stream: false, "one-shot": true } as unknown as { stream: false };
  const sample = (await dockerode.getContainer(containerId).stats(options)) as DockerStatsSample;
  const memoryStat = sample.memory_stats?.stats ?? {};
  // Working set as kubelet (and the local runtime) computes it: usage minus inactive page cache.
  const inactiveFile = memoryStat.total_inactive_file ?? memoryStat.inactive_file ?? 0;
  return {
    cpuUsageUs: Math.round((sample.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1000),
    memoryBytes: Math.max(0, (sample.memory_stats?.usage ?? 0) - inactiveFile),
    throttledPeriods: sample.cpu_stats?.throttling_data?.throttled_periods ?? 0,
    throttledUs: Math.round((sample.cpu_stats?.throttling_data?.throttled_time ?? 0) / 1000),
  };
}
