// A signal to a container's command that has landed when the call returns, as the
// local runtime's process.kill has: through the engine's API it lands some 20 ms
// later, and a check that kills a sidecar and sends a request at once would see the
// old process answer. The engine runs on this host (as the reaper also assumes), so
// the command — the container's init process: in the pod's shared PID namespace the
// engine adds no init of its own — is a process in this host's /proc, whose pid the
// engine reports. It is verified to be the container's (its id in the process's cgroup
// paths) before it is signalled; when that cannot be shown (an engine elsewhere, a pid
// already reused), the caller goes through the engine instead.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function isContainerProcess(containerId: string, pid: number, procRoot = "/proc"): boolean {
  if (!containerId) return false;
  try {
    return readFileSync(join(procRoot, String(pid), "cgroup"), "utf8").includes(containerId);
  } catch {
    return false;
  }
}

/** True when the signal was delivered here; false when the caller must go through the engine. */
export function signalOnHost(containerId: string, pid: number | undefined, sig: NodeJS.Signals, procRoot = "/proc"): boolean {
  if (pid === undefined || !isContainerProcess(containerId, pid, procRoot)) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
