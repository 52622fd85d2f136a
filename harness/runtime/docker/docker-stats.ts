// A container's CPU, memory and throttling from the Docker stats API, in the units
// and with the memory rule of the local runtime's cgroup accounting.
import type Dockerode from "dockerode";
import type { ContainerStats } from "../pod-runtime.ts";

/** The fields of GET /containers/{id}/stats this reads (cgroup v1 and v2 engines). */
export interface DockerStatsSample {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; throttling_data?: { throttled_periods?: number; throttled_time?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

export type StatsCounters = Omit<ContainerStats, "source" | "sampledAtMs" | "oomKills">;

export const ZERO_COUNTERS: StatsCounters = { cpuUsageUs: 0, memoryBytes: 0, throttledPeriods: 0, throttledUs: 0 };

/** One sample without waiting for a second one (one-shot, API 1.41+); an exited container reads as zero. */
export async function sampleDockerStats(dockerode: Dockerode, containerId: string): Promise<StatsCounters> {
  const options = { stream: false, "one-shot": true } as unknown as { stream: false };
  return countersOf((await dockerode.getContainer(containerId).stats(options)) as DockerStatsSample);
}

export function countersOf(sample: DockerStatsSample): StatsCounters {
  return {
    cpuUsageUs: Math.round((sample.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1000),
    memoryBytes: memoryWithoutPageCache(sample.memory_stats),
    throttledPeriods: sample.cpu_stats?.throttling_data?.throttled_periods ?? 0,
    throttledUs: Math.round((sample.cpu_stats?.throttling_data?.throttled_time ?? 0) / 1000),
  };
}

/**
 * Usage minus all page cache (cgroup v1 `total_cache`, v2 `file`), shared memory kept
 * where the kernel reports it (tmpfs pages are memory, not a cache). Subtracting only
 * the inactive file pages (`docker stats`, kubelet) is not enough here: file pages are
 * charged to the cgroup that first reads them, so a container's first start charges it
 * the image's binaries and libraries — mapped, hence active (Envoy: 13 MiB active and
 * 52 MiB inactive cache over a 14 MiB process) — while a local process finds those files
 * cached long ago under another cgroup. Without the cache both runtimes measure what the
 * process itself holds.
 */
export function memoryWithoutPageCache(memory: DockerStatsSample["memory_stats"]): number {
  const stat = memory?.stats ?? {};
  const pageCache = stat.total_cache ?? stat.cache ?? stat.file ?? 0;
  const sharedMemory = stat.total_shmem ?? stat.shmem ?? 0;
  return Math.max(0, (memory?.usage ?? 0) - Math.max(0, pageCache - sharedMemory));
}
