// Fallback accounting from /proc when no cgroup is writable: the CPU time and RSS of
// a process and all its descendants. Less exact than a cgroup (children that exited
// between samples are counted only once their parent reaps them), and reports say so.
import { readFileSync, readdirSync } from "node:fs";

const CLOCK_TICKS_PER_SEC = 100; // USER_HZ, fixed at 100 on Linux for /proc/<pid>/stat.
const PAGE_BYTES = 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuTicks: number;
  rssBytes: number;
  startTimeTicks: number;
}

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const num = (field: number) => Number(fields[field - 3]);
  return {
    pid,
    ppid: num(4),
    // utime + stime + cutime + cstime: own time and that of reaped children.
    cpuTicks: num(14) + num(15) + num(16) + num(17),
    rssBytes: num(24) * PAGE_BYTES,
    startTimeTicks: num(22),
  };
}

export function listPids(): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The process and all its descendants. */
export function processTree(rootPid: number): ProcStat[] {
  const stats = listPids().map(readProcStat).filter((s): s is ProcStat => s !== null);
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const root = stats.find((s) => s.pid === rootPid);
  if (!root) return [];
  const tree: ProcStat[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

export function sampleProcessTree(rootPid: number): { cpuUsageUs: number; memoryBytes: number } {
  const tree = processTree(rootPid);
  return {
    cpuUsageUs: tree.reduce((sum, s) => sum + s.cpuTicks, 0) * (1_000_000 / CLOCK_TICKS_PER_SEC),
    memoryBytes: tree.reduce((sum, s) => sum + s.rssBytes, 0),
  };
}
