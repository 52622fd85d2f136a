// A running container's counters read straight from its cgroup on this host. The
// engine's stats API answers a request only after about a second here (Docker 20.10
// waits for a second sample whatever `one-shot` says), which makes per-slot resource
// windows impossible and stacks up requests; the cgroup files the engine itself reads
// answer in microseconds. Used when the engine runs on this host (its containers' init
// pids are visible in /proc); the stats API remains the fallback.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { detectCgroupLayout, type CgroupLayout } from "../local/cgroup.ts";
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

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function keyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out[key] = Number(value);
  }
  return out;
}

/** A reader for the cgroup of host process `pid` (a container's init), or null when it cannot be read here. */
export function cgroupReaderFor(pid: number, layout: CgroupLayout | null = detectCgroupLayout()): CgroupReader | null {
  if (layout === null || !(pid > 0)) return null;
  const path = cgroupPathOf(read(`/proc/${pid}/cgroup`), layout.version);
  if (path === null || path === "/") return null;
  const file = (controller: keyof CgroupLayout["roots"], name: string) => join(layout.roots[controller], path, name);
  if (read(file("memory", "memory.stat")) === "") return null;
  if (layout.version === "cgroup-v2") {
    return () => {
      const cpu = keyValues(read(file("cpu", "cpu.stat")));
      const memory = keyValues(read(file("memory", "memory.stat")));
      if (Object.keys(memory).length === 0) return null;
      return {
        cpuUsageUs: cpu.usage_usec ?? 0,
        memoryBytes: memoryWithoutPageCache({ usage: Number(read(file("memory", "memory.current")).trim() || 0), stats: memory }),
        throttledPeriods: cpu.nr_throttled ?? 0,
        throttledUs: cpu.throttled_usec ?? 0,
        oomKills: keyValues(read(file("memory", "memory.events"))).oom_kill ?? 0,
      };
    };
  }
  return () => {
    const cpu = keyValues(read(file("cpu", "cpu.stat")));
    const memory = keyValues(read(file("memory", "memory.stat")));
    if (Object.keys(memory).length === 0) return null;
    return {
      cpuUsageUs: Number(read(file("cpuacct", "cpuacct.usage")).trim() || 0) / 1000,
      memoryBytes: memoryWithoutPageCache({ usage: Number(read(file("memory", "memory.usage_in_bytes")).trim() || 0), stats: memory }),
      throttledPeriods: cpu.nr_throttled ?? 0,
      throttledUs: (cpu.throttled_time ?? 0) / 1000,
      oomKills: keyValues(read(file("memory", "memory.oom_control"))).oom_kill ?? 0,
    };
  };
}
