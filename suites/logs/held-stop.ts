// A pod stop in Kubernetes order with the backend held back, so the check can read what
// arrived once the sidecar is gone.
//
// pod.stop() sends SIGTERM to the primary, waits for it to exit, then to the sidecars in
// reverse start order, each awaited: the sidecar under test, then the backend (wired in
// front of it, so it stops last). The backend closes its control port at once on SIGTERM,
// and the runtime sends that SIGTERM the moment the sidecar has exited — a shipper that
// flushes its last lines on its way out (as it should) has them arrive a few ms before the
// backend is told to go, too close to read reliably. So the check signals the containers
// itself, in the same order and within the same grace period: SIGTERM to the primary, wait
// for its exit; SIGTERM to the sidecar, wait for its exit (SIGKILL at the end of the grace
// period, as the runtime would); and the backend is not signalled at all. The caller reads
// the backend, then calls pod.stop(), which finds the primary and the sidecar gone and stops
// the backend. Two caveats of the runtimes. A sidecar that exits while the pod runs is
// restarted after a back-off (100 ms on local and docker, 10 s on kubernetes): the check reads
// the backend right after the exit, and its evidence says whether a restart began before the
// read ended. And Kubernetes ends a pod's sidecars itself once its main containers have
// completed (a restartPolicy Never pod whose primary exited), the backend last, right after
// the sidecar: there the check also reads the backend all along the stop
// (BackendLogs.followDuring), and when the read after the sidecar's exit fails while lines
// are missing, it cannot judge them and says so (skipped) rather than fail on its own race.
import { performance } from "node:perf_hooks";
import type { PodEvent, StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { pause } from "../support/bounded-wait.ts";

const EVENT_POLL_MS = 5;
/** After a SIGKILL, how long its exit is awaited. */
const KILL_WAIT_MS = 5_000;

export interface HeldStop {
  /** ms from each container's SIGTERM to its exit; null when it had to be killed. */
  primaryExitMs: number | null;
  sidecarExitMs: number | null;
  primaryKilled: boolean;
  sidecarKilled: boolean;
  /** The pod's event count when the sidecar's exit was seen: events after it show a restart. */
  eventsAtSidecarExit: number;
}

export async function stopHoldingBackend(pod: StartedPod, sidecar: string, graceMs: number, signal: AbortSignal): Promise<HeldStop> {
  const deadline = performance.now() + graceMs;
  const primary = await terminate(pod, PRIMARY_CONTAINER, deadline, signal);
  const side = await terminate(pod, sidecar, deadline, signal);
  return { primaryExitMs: primary.exitMs, sidecarExitMs: side.exitMs, primaryKilled: primary.killed, sidecarKilled: side.killed, eventsAtSidecarExit: pod.events().length };
}

/**
 * The stop on kubernetes: the kubelet stops the pod in the native-sidecar order itself, and
 * restarts a sidecar that exits while the pod's main container has not completed, so
 * signalling the containers by hand races it (a sidecar SIGTERMed by the check, restarted by
 * the kubelet, was then seen "still running" at the end of the grace period). There the
 * check lets the runtime stop the pod and reads the backend all along: the backend lingers
 * on its SIGTERM while it is read (role-backend's --linger-ms), so what the sidecar sent on
 * its way out is still read after the sidecar's exit.
 */
export async function stopThroughRuntime(pod: StartedPod, sidecar: string): Promise<HeldStop> {
  const from = pod.events().length;
  const stopped = await pod.stop();
  const events = stopped.events.slice(from);
  const killed = (container: string) => stopped.containers.find((c) => c.name === container)?.killed ?? false;
  const exitMs = (container: string): number | null => {
    const sigterm = events.find((e) => e.container === container && e.type === "sigterm");
    const end = events.find((e) => e.container === container && (e.type === "stopped" || e.type === "exited") && (!sigterm || e.atMs >= sigterm.atMs));
    return killed(container) || !sigterm || !end ? null : end.atMs - sigterm.atMs;
  };
  return {
    primaryExitMs: exitMs(PRIMARY_CONTAINER),
    sidecarExitMs: exitMs(sidecar),
    primaryKilled: killed(PRIMARY_CONTAINER),
    sidecarKilled: killed(sidecar),
    eventsAtSidecarExit: pod.events().length,
  };
}

/** Whether the runtime began to restart the sidecar after `fromEvent` (its exit). */
export function restartBegan(events: readonly PodEvent[], sidecar: string, fromEvent: number): boolean {
  return events.slice(fromEvent).some((e) => e.container === sidecar && (e.type === "restarting" || e.type === "starting"));
}

async function terminate(pod: StartedPod, container: string, deadline: number, signal: AbortSignal): Promise<{ exitMs: number | null; killed: boolean }> {
  const from = pod.events().length;
  const status = pod.status().find((c) => c.name === container);
  if (!status || status.state === "exited") return { exitMs: 0, killed: false };
  const sentAt = performance.now();
  pod.signal(container, "SIGTERM");
  if (await exitSeen(pod, container, from, deadline, signal)) return { exitMs: performance.now() - sentAt, killed: false };
  pod.signal(container, "SIGKILL");
  await exitSeen(pod, container, from, performance.now() + KILL_WAIT_MS, signal);
  return { exitMs: null, killed: true };
}

async function exitSeen(pod: StartedPod, container: string, fromEvent: number, deadline: number, signal: AbortSignal): Promise<boolean> {
  const maxPolls = Math.ceil(Math.max(0, deadline - performance.now()) / EVENT_POLL_MS) + 2;
  for (let poll = 0; poll < maxPolls; poll++) {
    if (pod.events().slice(fromEvent).some((e) => e.container === container && e.type === "exited")) return true;
    if (performance.now() >= deadline) return false;
    await pause(EVENT_POLL_MS, signal);
  }
  return false;
}
