// What the API says of a pod, as the ContainerStatus values and PodEvents every runtime
// reports: each snapshot the watch delivers is compared with the last one, and every
// change becomes an event stamped with the time the harness saw it (the API's own
// timestamps have one-second resolution). Pure: fed recorded snapshots in tests.
import { constants } from "node:os";
import type { V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { ContainerStatus, PodEvent } from "../pod-runtime.ts";

export interface TrackedContainer {
  /** The spec's name (what callers use). */
  name: string;
  /** The Pod's container name. */
  kubernetesName: string;
  kind: "sidecar" | "main";
}

interface Observed {
  status: ContainerStatus;
  containerId: string | null;
  /** Why it is waiting (ErrImageNeverPull, CrashLoopBackOff, …), with the kubelet's message. */
  waiting: { reason: string; message: string } | null;
  /** The exit already turned into an event (by container id), so it is reported once. */
  reportedExitOf: string | null;
  /** Instances (container ids) the kernel's OOM killer ended, as the kubelet reports them. */
  oomKilled: Set<string>;
}

// The first name of a number is the one Node reports for a process it ran (SIGABRT, not
// SIGIOT; SIGIO, not SIGPOLL), so every runtime names a signal alike.
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name as NodeJS.Signals);

/** Container runtimes report death by signal N as exit code 128 + N. */
export function exitOf(terminated: V1ContainerStateTerminated): { code: number | null; signal: NodeJS.Signals | null } {
  const signal = terminated.signal ? SIGNAL_NAMES.get(terminated.signal) : terminated.exitCode > 128 ? SIGNAL_NAMES.get(terminated.exitCode - 128) : undefined;
  return signal ? { code: null, signal } : { code: terminated.exitCode, signal: null };
}

function describe(exit: { code: number | null; signal: string | null }): string {
  return exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`;
}

/** Exact process start and exit times by container id, where the node's runtime tells them. */
export interface TaskTimes {
  startOf(containerId: string): number | undefined;
  exitOf(containerId: string): number | undefined;
}

const NO_TASK_TIMES: TaskTimes = { startOf: () => undefined, exitOf: () => undefined };

export class PodStatusTracker {
  private readonly observed = new Map<string, Observed>();
  private readonly podEvents: PodEvent[] = [];
  private podReady = false;
  private lastPod: V1Pod | null = null;
  /**
   * When the kubelet started the pod's first container: times to started and ready count
   * from here, as the other runtimes count from the start of their first container —
   * scheduling, the sandbox, its network and the runtime's NAT init container are the
   * cluster's start-up, not the sidecar's.
   */
  private firstStartAtMs: number | null = null;

  constructor(
    private readonly containers: readonly TrackedContainer[],
    /** performance.now() when the pod was requested: event times and times to start/ready count from it. */
    private readonly createdAtMs: number,
    /** When an instance really started and exited (performance.now() scale), where the node's runtime says (containerd-task-events.ts). */
    private readonly taskTimes: TaskTimes = NO_TASK_TIMES,
  ) {
    for (const c of containers) {
      this.observed.set(c.name, {
        status: { name: c.name, kind: c.kind, state: "waiting", started: false, ready: false, restartCount: 0 },
        containerId: null,
        waiting: null,
        reportedExitOf: null,
        oomKilled: new Set(),
      });
    }
  }

  /** Takes a snapshot seen at `atMs` (performance.now()); returns the events it adds. */
  observe(pod: V1Pod, atMs: number): PodEvent[] {
    this.lastPod = pod;
    const added: PodEvent[] = [];
    const record = (container: string, type: PodEvent["type"], detail?: string, exactAtMs?: number) => {
      const event: PodEvent = { atMs: (exactAtMs ?? atMs) - this.createdAtMs, container, type, ...(detail ? { detail } : {}) };
      added.push(event);
      this.podEvents.push(event);
    };
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const tracked of this.containers) {
      const status = statuses.find((s) => s.name === tracked.kubernetesName);
      if (status) this.update(tracked, status, atMs, record);
    }
    this.podReady = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    return added;
  }

  private update(tracked: TrackedContainer, api: V1ContainerStatus, atMs: number, record: (c: string, t: PodEvent["type"], d?: string, exactAtMs?: number) => void): void {
    const seen = this.observed.get(tracked.name)!;
    const { status } = seen;
    const id = api.containerID ?? null;
    for (const terminated of [api.lastState?.terminated, api.state?.terminated]) {
      if (terminated?.reason === "OOMKilled" && terminated.containerID) seen.oomKilled.add(terminated.containerID);
    }
    // An earlier instance that died between two snapshots shows only as lastState.
    const previousExit = api.lastState?.terminated;
    if (previousExit?.containerID && seen.reportedExitOf !== previousExit.containerID && seen.containerId === previousExit.containerID) {
      const exit = exitOf(previousExit);
      Object.assign(status, { state: "exited", exitCode: exit.code, exitSignal: exit.signal, ready: false, started: false });
      seen.reportedExitOf = previousExit.containerID;
      record(tracked.name, "exited", describe(exit), this.taskTimes.exitOf(previousExit.containerID));
    }
    if (id !== null && id !== seen.containerId && (api.state?.running || api.state?.terminated)) {
      const startedAtMs = this.taskTimes.startOf(id);
      // The kubelet restarted it when the new instance started: stamped alike, the restart precedes the start.
      if (api.restartCount > status.restartCount) record(tracked.name, "restarting", `restart ${api.restartCount} by the kubelet`, startedAtMs);
      seen.containerId = id;
      this.firstStartAtMs ??= startedAtMs ?? atMs;
      record(tracked.name, "starting", undefined, startedAtMs);
    }
    status.restartCount = api.restartCount;
    seen.waiting = api.state?.waiting ? { reason: api.state.waiting.reason ?? "Waiting", message: api.state.waiting.message ?? "" } : null;
    if (api.state?.running) {
      status.state = api.started ? "running" : "starting";
      delete status.exitCode;
      delete status.exitSignal;
    } else if (api.state?.terminated) {
      const exit = exitOf(api.state.terminated);
      status.state = "exited";
      status.exitCode = exit.code;
      status.exitSignal = exit.signal;
      if (seen.reportedExitOf !== id) {
        seen.reportedExitOf = id;
        record(tracked.name, "exited", describe(exit), id ? this.taskTimes.exitOf(id) : undefined);
      }
    } else if (api.state?.waiting && status.state !== "exited") {
      status.state = "waiting";
    }
    const started = api.started === true && Boolean(api.state?.running);
    if (started && !status.started) {
      status.timeToStartedMs ??= atMs - (this.firstStartAtMs ?? this.createdAtMs);
      record(tracked.name, "started");
    }
    status.started = started;
    if (api.ready !== status.ready) {
      if (api.ready) status.timeToReadyMs ??= atMs - (this.firstStartAtMs ?? this.createdAtMs);
      record(tracked.name, api.ready ? "ready" : "not-ready");
      status.ready = api.ready;
    }
  }

  /** Adds an event the API does not show in the pod's status (the kubelet's "Killing", a stop request). */
  note(container: string, type: PodEvent["type"], atMs: number, detail?: string): void {
    this.podEvents.push({ atMs: atMs - this.createdAtMs, container, type, ...(detail ? { detail } : {}) });
  }

  /** How many instances of the container the OOM killer ended (each restart is a new cgroup, whose own counter starts at 0). */
  oomKillsOf(name: string): number {
    return this.observed.get(name)?.oomKilled.size ?? 0;
  }

  /**
   * Moves the container's last event of `type` back to `atMs` (performance.now() scale) when
   * it is later: an event the harness learned of late (the kubelet's "Killing" reaches it a
   * watch round trip after the fact) cannot have followed what it caused.
   */
  capLast(container: string, type: PodEvent["type"], atMs: number): void {
    const event = [...this.podEvents].reverse().find((e) => e.container === container && e.type === type);
    if (event && event.atMs > atMs - this.createdAtMs) event.atMs = atMs - this.createdAtMs;
  }

  statuses(): ContainerStatus[] {
    return this.containers.map((c) => ({ ...this.observed.get(c.name)!.status }));
  }

  /** In the order they happened (an exit the runtime timed exactly may precede what the API showed first). */
  events(): PodEvent[] {
    return [...this.podEvents].sort((a, b) => a.atMs - b.atMs);
  }

  /** The pod's Ready condition: every container ready, sidecars included. */
  isReady(): boolean {
    return this.podReady;
  }

  containerId(name: string): string | null {
    return this.observed.get(name)?.containerId ?? null;
  }

  /** Containers waiting for a reason the pod cannot get past by itself (an image that is not there, a bad command). */
  stuck(): Array<{ name: string; reason: string; message: string }> {
    const fatal = new Set(["ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff"]);
    return this.containers.flatMap((c) => {
      const waiting = this.observed.get(c.name)!.waiting;
      return waiting && fatal.has(waiting.reason) ? [{ name: c.name, ...waiting }] : [];
    });
  }

  phase(): string {
    return this.lastPod?.status?.phase ?? "Pending";
  }

  lastSnapshot(): V1Pod | null {
    return this.lastPod;
  }
}
