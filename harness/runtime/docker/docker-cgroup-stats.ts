// A running container's counters read straight from its cgroup on this host. The
// engine's stats API answers a request only after about a second here (Docker 20.10
// waits for a second sample whatever `one-shot` says), which makes per-slot resource
// windows impossible and stacks up requests; the cgroup files the engine itself reads
// answer in microseconds. Used when the engine runs on this host (its containers' init
// pids are visible in /proc); the stats API remains the fallback.
import { ContainerCgroup, detectCgroupLayout, safeRead, type CgroupLayout } from "../local/cgroup.ts";
import { memoryWithoutPageCache, type StatsCounters } from "./docker-stats.ts";

/** null once the cgroup is gone (the container exited between two samples). */
export type CgroupReader = () => (StatsCounters & { oomKills: number }) | null;

/** Where a process's cgroup lives below each hierarchy's root, from /proc/<pid>/cgroup. */
export function cgroupPathOf(procCgroupText: string, version: CgroupLayout["version"]): string | null {
  for (const line of procCgroupText.split("\n")) {
    const [, controllers, path] = line.split(":");
    if (path === undefined) continue;
    if (version === "cgroup-v2" ? controllers === "" : controllers!.split(",").includes("memory")) return path;
  }
  return null;
}

/** A reader for the cgroup of host process `pid` (a container's init), or null when it cannot be read here. */
export function cgroupReaderFor(pid: number, layout: CgroupLayout | null = detectCgroupLayout()): CgroupReader | null {
  if (layout === null || !(pid > 0)) return null;
  const path = cgroupPathOf(safeRead(`/proc/${pid}/cgroup`), layout.version);
  if (path === null || path === "/") return null;
  // The engine's cgroup, read the way the local runtime reads its own; memory by docker-stats' rule.
  const cgroup = new ContainerCgroup(layout, path);
  const read = () => {
    const { memoryUsageBytes, memoryStat, ...rest } = cgroup.counters();
    if (Object.keys(memoryStat).length === 0) return null;
    return { ...rest, memoryBytes: memoryWithoutPageCache({ usage: memoryUsageBytes, stats: memoryStat }) };
  };
  return read() === null ? null : read;
}
