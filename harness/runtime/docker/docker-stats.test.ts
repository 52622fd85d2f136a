import { describe, expect, it } from "vitest";
import { countersOf, type DockerStatsSample } from "./docker-stats.ts";

const MiB = 1024 * 1024;

// memory_stats of an idle Envoy container on Docker 20.10, cgroup v1 (trimmed to the
// fields that matter): 14.2 MiB of its own (rss) under 64.7 MiB of page cache, of
// which the mapped envoy binary keeps 13 MiB active.
const envoyV1: DockerStatsSample = {
  cpu_stats: { cpu_usage: { total_usage: 1_234_567_000 }, throttling_data: { throttled_periods: 3, throttled_time: 45_000_000 } },
  memory_stats: {
    usage: 83_775_488,
    stats: {
      cache: 67_862_528,
      rss: 14_909_440,
      active_file: 13_672_448,
      inactive_file: 54_190_080,
      mapped_file: 38_871_040,
      total_cache: 67_862_528,
      total_rss: 14_909_440,
      total_active_file: 13_672_448,
      total_inactive_file: 54_190_080,
    },
  },
};

// The same container under cgroup v2: no total_* keys, page cache is `file`, tmpfs is `shmem` (inside `file`).
const envoyV2: DockerStatsSample = {
  cpu_stats: { cpu_usage: { total_usage: 2_000_000 } },
  memory_stats: {
    usage: 83_775_488,
    stats: { anon: 14_909_440, file: 67_862_528, active_file: 13_672_448, inactive_file: 54_190_080, shmem: 1_048_576, file_mapped: 38_871_040 },
  },
};

describe("docker stats as the local runtime counts them", () => {
  it("cgroup v1: usage minus all page cache, active pages included", () => {
    const counters = countersOf(envoyV1);
    // What `docker stats` shows (usage − total_inactive_file) would be 28.4 MiB.
    expect(counters.memoryBytes / MiB).toBeCloseTo((83_775_488 - 67_862_528) / MiB, 6);
    expect(counters.memoryBytes / MiB).toBeGreaterThan(14.2);
    expect(counters.memoryBytes / MiB).toBeLessThan(15.5);
    expect(counters).toMatchObject({ cpuUsageUs: 1_234_567, throttledPeriods: 3, throttledUs: 45_000 });
  });

  it("cgroup v2: usage minus `file`, keeping shared memory", () => {
    expect(countersOf(envoyV2).memoryBytes).toBe(83_775_488 - (67_862_528 - 1_048_576));
    expect(countersOf(envoyV2).cpuUsageUs).toBe(2_000);
  });

  it("reads an empty sample (an exited container) as zero, and never goes negative", () => {
    expect(countersOf({})).toEqual({ cpuUsageUs: 0, memoryBytes: 0, throttledPeriods: 0, throttledUs: 0 });
    expect(countersOf({ memory_stats: { usage: 100, stats: { total_cache: 500 } } }).memoryBytes).toBe(0);
  });
});
