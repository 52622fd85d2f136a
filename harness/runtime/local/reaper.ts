// Reaps what earlier local runs left behind when their harness died: labelled
// processes whose owner is gone, and cgroups of runs that are no longer alive.
import { readFileSync } from "node:fs";
import { listPids } from "./proc-stats.ts";
import { liveRunIds, ownerAlive, readLabels } from "./run-labels.ts";
import { type CgroupLayout, listRunCgroups, removeRunCgroupDir } from "./cgroup.ts";

export async function reapOrphans(layout: CgroupLayout | null, stateRoot?: string): Promise<string[]> {
  const reaped: string[] = [];
  const self = process.pid;
  for (const pid of listPids()) {
    if (pid === self) continue;
    const labels = readLabels(pid);
    if (!labels || ownerAlive(labels.owner)) continue;
    killQuietly(pid);
    reaped.push(`process ${pid} (run ${labels.runId}, ${labels.pod ?? "?"}/${labels.container ?? "?"})`);
  }
  if (layout) {
    const live = liveRunIds(stateRoot);
    for (const run of listRunCgroups(layout)) {
      // Alive if its owner file says so, or if any of its processes names a live harness
      // (a harness whose owner file lives under another state root, e.g. a test's).
      if (live.has(run.runId) || run.dirs.some((dir) => readPids(dir).some((pid) => ownerAliveOf(pid)))) continue;
      for (const dir of run.dirs) {
        for (const pid of readPids(dir)) {
          killQuietly(pid);
          reaped.push(`process ${pid} (cgroup of run ${run.runId})`);
        }
      }
      // Killed processes leave their cgroup only once the kernel has reaped them.
      await retry(() => run.dirs.every((dir) => removeRunCgroupDir(dir)), 20, 50);
      reaped.push(`cgroups of run ${run.runId}`);
    }
  }
  return reaped;
}

function ownerAliveOf(pid: number): boolean {
  const labels = readLabels(pid);
  return labels !== null && ownerAlive(labels.owner);
}

function readPids(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

async function retry(attempt: () => boolean, times: number, delayMs: number): Promise<void> {
  for (let i = 0; i < times && !attempt(); i++) await new Promise((r) => setTimeout(r, delayMs));
}
