// Labels on everything a docker run creates (containers, networks), so that the next
// run can reap what a crashed harness left. The owner is the harness's pid and its
// start time (guarding against pid reuse): the engine runs on this host, so the
// harness's pid is checked in this host's /proc, as the local runtime does.
import { ownerAlive, ownerOf } from "../local/run-labels.ts";

export const LABEL_RUN_ID = "sidecar-bench.run-id";
export const LABEL_POD = "sidecar-bench.pod";
export const LABEL_CONTAINER = "sidecar-bench.container";
export const LABEL_OWNER_PID = "sidecar-bench.owner-pid";
/** Start time of the owner process in clock ticks since boot (/proc/<pid>/stat field 22). */
export const LABEL_OWNER_START = "sidecar-bench.owner-start";

export interface OwnerLabels {
  [LABEL_OWNER_PID]: string;
  [LABEL_OWNER_START]: string;
}

export function ownerLabels(pid = process.pid): OwnerLabels {
  const [ownerPid, start] = ownerOf(pid).split(":");
  return { [LABEL_OWNER_PID]: ownerPid!, [LABEL_OWNER_START]: start! };
}

/** True when the labels name a harness that is still running (unlabelled: treated as alive, never reaped). */
export function labelledOwnerAlive(labels: Record<string, string> | undefined): boolean {
  const pid = labels?.[LABEL_OWNER_PID];
  if (!pid) return true;
  return ownerAlive(`${pid}:${labels[LABEL_OWNER_START] ?? "0"}`);
}
