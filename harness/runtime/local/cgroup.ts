// Per-container cgroups for the local runtime: CPU and memory accounting and limits,
// v2 (unified, with cpu and memory controllers) or v1 (separate hierarchies).
// No library covers cgroup v1 and v2 from Node, and the surface used is a dozen files.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceLimits } from "../pod-runtime.ts";

export type CgroupVersion = "cgroup-v1" | "cgroup-v2";

export interface CgroupSample {
  cpuUsageUs: number;
  memoryBytes: number;
  throttledPeriods: number;
  throttledUs: number;
  oomKills: number;
}

export interface CgroupCounters {
  cpuUsageUs: number;
  memoryUsageBytes: number;
  /** memory.stat's keys as the kernel names them (v1: total_cache, …; v2: file, …). */
  memoryStat: Record<string, number>;
  throttledPeriods: number;
  throttledUs: number;
  oomKills: number;
}

export interface CgroupLayout {
  version: CgroupVersion;
  /** v2: the unified mount. v1: mount point of each controller we use. */
  roots: { memory: string; cpu: string; cpuacct: string };
}

const CFS_PERIOD_US = 100_000;
/** Everything sidecar-bench creates lives under this name, so the reaper can find it. */
export const CGROUP_PARENT = "sidecar-bench";

/** Finds writable cgroup hierarchies with the controllers we need, or null (→ /proc fallback). */
export function detectCgroupLayout(mountsText = safeRead("/proc/mounts")): CgroupLayout | null {
  const mounts = mountsText.split("\n").map((line) => line.split(" ")).filter((f) => f.length >= 4);
  const v2 = mounts.find((f) => f[2] === "cgroup2");
  if (v2) {
    const controllers = safeRead(join(v2[1]!, "cgroup.controllers")).split(/\s+/);
    if (controllers.includes("memory") && controllers.includes("cpu") && writable(v2[1]!)) {
      return { version: "cgroup-v2", roots: { memory: v2[1]!, cpu: v2[1]!, cpuacct: v2[1]! } };
    }
  }
  const v1 = (controller: string) =>
    mounts.find((f) => f[2] === "cgroup" && f[3]!.split(",").includes(controller))?.[1];
  const memory = v1("memory");
  const cpu = v1("cpu");
  const cpuacct = v1("cpuacct");
  if (memory && cpu && cpuacct && writable(memory) && writable(cpu) && writable(cpuacct)) {
    return { version: "cgroup-v1", roots: { memory, cpu, cpuacct } };
  }
  return null;
}

function writable(root: string): boolean {
  const probe = join(root, CGROUP_PARENT);
  try {
    mkdirSync(probe, { recursive: true });
    if (existsSync(join(root, "cgroup.subtree_control"))) enableV2Controllers(root);
    return true;
  } catch {
    return false;
  }
}

function enableV2Controllers(root: string): void {
  // A v2 child can only use controllers its parent delegates.
  for (const dir of [root, join(root, CGROUP_PARENT)]) {
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), "+cpu +memory");
    } catch {
      // Already enabled, or the root is busy with processes: accounting still works where it can.
    }
  }
}

export class ContainerCgroup {
  private readonly dirs: string[];

  constructor(
    private readonly layout: CgroupLayout,
    /** Path below the layout roots, e.g. sidecar-bench/<runId>/<pod>.<container> */
    readonly relativePath: string,
  ) {
    this.dirs = [...new Set(Object.values(layout.roots))].map((root) => join(root, relativePath));
  }

  get version(): CgroupVersion {
    return this.layout.version;
  }

  create(limits: ResourceLimits | undefined): void {
    for (const dir of this.dirs) mkdirSync(dir, { recursive: true });
    if (this.layout.version === "cgroup-v2") {
      enableV2Controllers(join(this.layout.roots.memory, this.relativePath, ".."));
      if (limits?.memoryMiB) this.write("memory", "memory.max", String(mib(limits.memoryMiB)));
      if (limits?.cpus) this.write("cpu", "cpu.max", `${Math.round(limits.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}`);
    } else {
      if (limits?.memoryMiB) this.write("memory", "memory.limit_in_bytes", String(mib(limits.memoryMiB)));
      if (limits?.cpus) {
        this.write("cpu", "cpu.cfs_period_us", String(CFS_PERIOD_US));
        this.write("cpu", "cpu.cfs_quota_us", String(Math.round(limits.cpus * CFS_PERIOD_US)));
      }
    }
  }

  /** Files a process writes its pid to in order to join (one per hierarchy). */
  procsFiles(): string[] {
    return this.dirs.map((dir) => join(dir, "cgroup.procs"));
  }

  pids(): number[] {
    const all = this.dirs.flatMap((dir) => safeRead(join(dir, "cgroup.procs")).split("\n"));
    return [...new Set(all.filter(Boolean).map(Number))];
  }

  /** The raw counters, the same names on v1 and v2; memory as the kernel charges it (page cache included). */
  counters(): CgroupCounters {
    const v2 = this.layout.version === "cgroup-v2";
    const cpuStat = keyValues(this.read("cpu", "cpu.stat"));
    return {
      cpuUsageUs: v2 ? (cpuStat.usage_usec ?? 0) : Number(this.read("cpuacct", "cpuacct.usage").trim() || 0) / 1000,
      memoryUsageBytes: Number(this.read("memory", v2 ? "memory.current" : "memory.usage_in_bytes").trim() || 0),
      memoryStat: keyValues(this.read("memory", "memory.stat")),
      throttledPeriods: cpuStat.nr_throttled ?? 0,
      throttledUs: v2 ? (cpuStat.throttled_usec ?? 0) : (cpuStat.throttled_time ?? 0) / 1000,
      oomKills: keyValues(this.read("memory", v2 ? "memory.events" : "memory.oom_control")).oom_kill ?? 0,
    };
  }

  sample(): CgroupSample {
    const { memoryUsageBytes, memoryStat, ...rest } = this.counters();
    // Working set as kubelet computes it: usage minus inactive page cache.
    const inactiveFile = (this.layout.version === "cgroup-v2" ? memoryStat.inactive_file : memoryStat.total_inactive_file) ?? 0;
    return { ...rest, memoryBytes: Math.max(0, memoryUsageBytes - inactiveFile) };
  }

  /** Removes the cgroup once its processes are gone; returns false if some remain. */
  remove(): boolean {
    let removed = true;
    for (const dir of this.dirs) {
      try {
        if (existsSync(dir)) rmdirSync(dir);
      } catch {
        removed = false;
      }
    }
    return removed;
  }

  private read(controller: keyof CgroupLayout["roots"], file: string): string {
    return safeRead(join(this.layout.roots[controller], this.relativePath, file));
  }

  private write(controller: keyof CgroupLayout["roots"], file: string, value: string): void {
    writeFileSync(join(this.layout.roots[controller], this.relativePath, file), value);
  }
}

/** Lists run directories under sidecar-bench/ in every hierarchy (for the reaper). */
export function listRunCgroups(layout: CgroupLayout): Array<{ runId: string; dirs: string[] }> {
  const byRun = new Map<string, string[]>();
  for (const root of new Set(Object.values(layout.roots))) {
    const parent = join(root, CGROUP_PARENT);
    for (const runId of safeList(parent)) {
      const runDir = join(parent, runId);
      const containers = safeList(runDir).map((name) => join(runDir, name)).filter((p) => existsSync(join(p, "cgroup.procs")));
      byRun.set(runId, [...(byRun.get(runId) ?? []), ...containers, runDir]);
    }
  }
  return [...byRun].map(([runId, dirs]) => ({ runId, dirs }));
}

/** Removes the run's own directory once its containers' cgroups are gone. */
export function removeRunCgroups(layout: CgroupLayout, runId: string): void {
  for (const root of new Set(Object.values(layout.roots))) removeRunCgroupDir(join(root, CGROUP_PARENT, runId));
}

export function removeRunCgroupDir(runDirOrContainerDir: string): boolean {
  try {
    rmdirSync(runDirOrContainerDir);
    return true;
  } catch {
    return false;
  }
}

function mib(value: number): number {
  return Math.round(value * 1024 * 1024);
}

function keyValues(text: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) result[key] = Number(value);
  }
  return result;
}

export function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}
