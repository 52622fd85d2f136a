// The one interface every runtime (local processes, docker, kubernetes) implements.
// Callers see a spec → a started pod → a stopped pod; nothing runtime-specific leaks out.
import type { PinningPlan } from "../experiment/cpu-pinning.ts";
import type { OpenLoopDriver } from "../load/open-loop-driver.ts";

/** Where a probe looks. `port` is a port name of the same container. */
export type ProbeAction =
  | { http: { port: string; path: string; expectStatus?: number } }
  | { tcp: { port: string } }
  | { exec: { command: string[] } };

export interface ProbeSpec {
  action: ProbeAction;
  periodMs: number;
  timeoutMs: number;
  /** Consecutive failures before a readiness probe marks the container not ready. */
  failureThreshold: number;
}

export interface ResourceLimits {
  memoryMiB?: number;
  /** CPU quota in cores (0.5 = half a core), enforced by CFS. */
  cpus?: number;
}

/**
 * A container as the runtime sees it: templates already parsed, but ports not yet
 * resolved (resolution is the runtime's job: local allocates free ports, docker
 * and kubernetes share the pod's localhost and use the declared numbers).
 */
export interface ContainerSpec {
  name: string;
  /** `sidecar` = Kubernetes native sidecar (init container with restartPolicy: Always). */
  kind: "sidecar" | "main";
  /** Arguments may contain templates: {{ port 'name' }}, {{ port 'other.name' }}, {{ file 'rel/path' }}. */
  command: string[];
  env?: Record<string, string>;
  /** Directory that `{{ file '...' }}` paths are relative to (the manifest's directory). */
  baseDir: string;
  /** Declared port numbers by name (used as is where containers share a network namespace). */
  ports: Record<string, number>;
  /** Docker and kubernetes runtimes; the local runtime ignores it. */
  image?: string;
  /** Pod volumes this container mounts (pod-volumes.ts); `{{ volume 'name' }}` expands to their paths. */
  volumes?: string[];
  probes: { startup?: ProbeSpec; readiness?: ProbeSpec };
  resources?: ResourceLimits;
  /** Grace for the whole pod is PodSpec.terminationGracePeriodMs; this is startup's bound. */
  startupTimeoutMs: number;
}

export interface PodSpec {
  /** Unique per pod within a run; used in labels and resource names. */
  name: string;
  runId: string;
  /** Sidecars first, in start order; then main containers. */
  containers: ContainerSpec[];
  terminationGracePeriodMs: number;
  /**
   * Fate of a main container that exits while the pod runs (Kubernetes' pod restartPolicy):
   * "Never" (default) leaves it exited; "Always" restarts it with the sidecars' back-off,
   * as a Deployment's pod does. Sidecars restart either way.
   */
  restartPolicy?: "Never" | "Always";
  /** CPUs the pod's processes may run on (taskset/cpuset), when the caller pins. */
  cpuSet?: number[];
}

export type ContainerState = "waiting" | "starting" | "running" | "exited";

export interface ContainerStatus {
  name: string;
  kind: "sidecar" | "main";
  state: ContainerState;
  started: boolean;
  ready: boolean;
  restartCount: number;
  pid?: number;
  exitCode?: number | null;
  exitSignal?: string | null;
  /** ms from pod start request until this container's startup probe passed. */
  timeToStartedMs?: number;
  /** ms from pod start request until this container first became ready. */
  timeToReadyMs?: number;
}

/** Cumulative counters: callers difference two samples over a window. */
export interface ContainerStats {
  /** Total CPU time consumed (user + system), in microseconds. */
  cpuUsageUs: number;
  /** Current resident memory in bytes (cgroup usage minus page cache, or process RSS). */
  memoryBytes: number;
  /** Where the numbers come from, so reports can say so. */
  source: "cgroup-v1" | "cgroup-v2" | "proc" | "docker" | "kubernetes";
  /** CFS throttling, when a CPU limit is set and the source knows it. */
  throttledPeriods?: number;
  throttledUs?: number;
  /** Kernel OOM kills in the container, where the source knows it. */
  oomKills?: number;
  sampledAtMs: number;
}

/** One event of a pod's life, kept for verdicts (ordering checks) and reports. */
export interface PodEvent {
  atMs: number;
  container: string;
  type:
    | "starting"
    | "started"
    | "ready"
    | "not-ready"
    | "exited"
    | "restarting"
    | "sigterm"
    | "sigkill"
    | "stopped";
  detail?: string;
}

/** What a container's log file kept of its output; the file holds its head and its tail, at most maxBytes. */
export interface ContainerLogUsage {
  /** The log file (<run folder>/pods/<pod>/<container>.log). */
  file: string;
  maxBytes: number;
  /** Everything the container wrote, and the harness's notes (restarts, exits). */
  writtenBytes: number;
  /** Output between the head and the tail, not in the file (a marker line there says how much). */
  droppedBytes: number;
  /** Why the file stopped being written (e.g. a full disk); its later output counts as dropped. */
  error?: string;
}

export interface StoppedPod {
  /** Per container: how it ended. `killed` = still alive at the end of the grace period. */
  containers: Array<{ name: string; exitCode: number | null; signal: string | null; killed: boolean }>;
  stopDurationMs: number;
  events: PodEvent[];
}

export interface StartedPod {
  readonly spec: PodSpec;
  /** Base URL to reach `port` (a port name) of `container`, e.g. http://127.0.0.1:40123 */
  url(container: string, port: string): string;
  /** Where the harness reaches a pod volume on this machine; undefined when it cannot (kubernetes off the node). */
  volumePath?(name: string): string | undefined;
  /** The resolved port number of a named port. */
  port(container: string, port: string): number;
  status(): ContainerStatus[];
  stats(container: string): Promise<ContainerStats>;
  /**
   * The last `maxLines` lines the container wrote (stdout and stderr interleaved), preceded
   * by a line saying how much its log file dropped once it has dropped output.
   */
  logs(container: string, maxLines?: number): string[];
  /** What the container's log file kept and dropped, also after stop(); null without a file. Runtimes whose logs a kubelet keeps have none. */
  logUsage?(container: string): ContainerLogUsage | null;
  /**
   * How much later than a container really became ready this runtime may report it, when
   * that is more than the container's own probe periods explain (kubernetes: the kubelet
   * notices a started container at its next relist, probes at whole seconds, starts the
   * readiness probe only once the startup probe passed, and reports through the API).
   * Absent: the runtime probes on the spec's own periods and reports at once.
   */
  readinessReportLagMs?(container: string): number;
  signal(container: string, sig: NodeJS.Signals): void;
  restart(container: string): Promise<void>;
  events(): PodEvent[];
  /**
   * Kubernetes order: mains get SIGTERM, then sidecars in reverse; one grace period, the
   * spec's unless `options.graceMs` (a teardown nothing observes any more: see
   * conformance-context.ts). Safe twice: the first call's grace holds.
   */
  stop(options?: StopOptions): Promise<StoppedPod>;
}

export interface StopOptions {
  /** The grace period of this stop instead of the spec's terminationGracePeriodMs. */
  graceMs?: number;
}

export interface StartPodOptions {
  /** Bound of the wait for readiness (default: the longest startupTimeoutMs of the containers). */
  readyTimeoutMs?: number;
  /**
   * Called once, synchronously, as soon as the pod's containers are created and its
   * url()/port() resolve — before the pod is ready, typically before any container has
   * started — with the pod startPod will resolve to. From then on every StartedPod method
   * works (status(), events(), logs() show the start as it happens), so a caller can
   * drive requests at the pod during its very first start. Not called when the start
   * fails earlier; an error it throws fails the start (the pod is torn down).
   */
  onCreated?: (pod: StartedPod) => void;
}

/** Where the kubernetes runtime's in-cluster generator runs relative to the pods under test. */
export type GeneratorPlacement = "same-node" | "other-node";

export interface PodRuntime {
  getName(): string;
  /**
   * Starts containers in order (each sidecar waits for its startup probe), waits for
   * readiness, and returns the started pod. On failure it tears down what it started
   * and throws a PodStartError carrying the last log lines.
   */
  startPod(spec: PodSpec, options?: StartPodOptions): Promise<StartedPod>;
  /** Stops every pod this runtime started and releases run-level resources (end of run, Ctrl-C). */
  stopAll(): Promise<void>;
  /** Removes anything left behind by earlier runs whose harness died. Returns what it reaped. */
  reapOrphans(): Promise<string[]>;
  /**
   * Where a benchmark's open-loop rounds are sent from when not from the harness's own
   * process: the kubernetes runtime starts a generator pod beside the run's pods. Absent:
   * the harness sends them itself. The caller closes the driver.
   */
  openLoopDriver?(runId: string, options: { placement: GeneratorPlacement; signal?: AbortSignal }): Promise<OpenLoopDriver>;
  /**
   * How a runtime that places the load generator itself keeps it and the pods apart
   * (DESIGN rule 10), asked before the pods start. Absent: the harness is the generator and
   * pins itself and the pods (experiment/cpu-pinning.ts).
   */
  pinningPlan?(mode: "split" | "none"): Promise<PinningPlan>;
}

export class PodStartError extends Error {
  constructor(
    message: string,
    readonly container: string,
    readonly lastLogLines: string[],
  ) {
    super(message);
    this.name = "PodStartError";
  }
}
