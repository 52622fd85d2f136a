// Labels on everything a local run creates, so the next run can reap what a crashed
// harness left. Processes carry them as environment variables (inherited by their
// children); each run also leaves an owner file naming the harness process.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listPids, readProcStat } from "./proc-stats.ts";

export const LABEL_RUN_ID = "SIDECAR_BENCH_RUN_ID";
/** "<pid>:<start time in ticks>" of the harness; the start time guards against pid reuse. */
export const LABEL_OWNER = "SIDECAR_BENCH_OWNER";
export const LABEL_POD = "SIDECAR_BENCH_POD";
export const LABEL_CONTAINER = "SIDECAR_BENCH_CONTAINER";

export function ownerOf(pid: number): string {
  return `${pid}:${readProcStat(pid)?.startTimeTicks ?? 0}`;
}

export function ownerAlive(owner: string): boolean {
  const [pid, start] = owner.split(":").map(Number);
  if (!pid) return false;
  const stat = readProcStat(pid);
  return stat !== null && stat.startTimeTicks === start;
}

export function ownerDir(stateRoot = tmpdir()): string {
  return join(stateRoot, "sidecar-bench-runs");
}

export function writeOwnerFile(runId: string, owner: string, stateRoot?: string): void {
  mkdirSync(ownerDir(stateRoot), { recursive: true });
  writeFileSync(join(ownerDir(stateRoot), `${runId}.owner`), owner);
}

export function removeOwnerFile(runId: string, stateRoot?: string): void {
  rmSync(join(ownerDir(stateRoot), `${runId}.owner`), { force: true });
}

/** Run ids whose owner file names a live harness. */
export function liveRunIds(stateRoot?: string): Set<string> {
  const live = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(ownerDir(stateRoot));
  } catch {
    return live;
  }
  for (const name of names.filter((n) => n.endsWith(".owner"))) {
    const runId = name.slice(0, -".owner".length);
    let owner = "";
    try {
      owner = readFileSync(join(ownerDir(stateRoot), name), "utf8").trim();
    } catch {
      continue;
    }
    if (ownerAlive(owner)) live.add(runId);
    else rmSync(join(ownerDir(stateRoot), name), { force: true });
  }
  return live;
}

/** The labels of a running process, or null when it carries none (or is gone). */
export function readLabels(pid: number): { runId: string; owner: string; pod?: string; container?: string } | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return null;
  }
  if (!environ.includes(LABEL_OWNER)) return null;
  const vars = new Map(
    environ.split("\0").map((entry) => {
      const at = entry.indexOf("=");
      return [entry.slice(0, at), entry.slice(at + 1)] as const;
    }),
  );
  const runId = vars.get(LABEL_RUN_ID);
  const owner = vars.get(LABEL_OWNER);
  if (!runId || !owner) return null;
  return { runId, owner, pod: vars.get(LABEL_POD), container: vars.get(LABEL_CONTAINER) };
}

/**
 * Processes labelled as this container's (run, pod, container), wherever they are in the
 * process tree: how a container's processes are found without a cgroup, including those
 * that left its process group (setsid) or were re-parented when their parent exited.
 */
export function containerPids(runId: string, pod: string, container: string): number[] {
  return listPids().filter((pid) => {
    const labels = readLabels(pid);
    return labels !== null && labels.runId === runId && labels.pod === pod && labels.container === container;
  });
}
