// The life of a pod's containers, the same on every runtime. Follows Kubernetes native sidecars:
// - start: sidecars one by one, each gating the next on its startup probe; then the
//   main containers together; then the pod waits until every container is ready;
// - ready: every container with a readiness probe passes it (others: running);
// - restart: a sidecar that exits is restarted (with back-off) while the pod runs; a
//   main container only under the pod's restartPolicy Always (default Never);
// - stop: SIGTERM to mains; once they have exited, SIGTERM to sidecars in reverse
//   start order, each awaited; one grace period for all, then SIGKILL.
// Each step goes to the pod's event log. How a container is started, killed and probed
// is the runtime's (a ContainerDriver), and so is seeing it exit: the runtime reports
// each exit to exited() (local-pod.ts, docker-pod.ts).
import { type ExitInfo, describeExit } from "./container-exit.ts";
import type { ContainerSpec, ContainerStatus, PodEvent, PodSpec, ProbeAction, StoppedPod } from "./pod-runtime.ts";
import { PodStartError } from "./pod-runtime.ts";
import type { ProbeResult } from "./probe.ts";

const RESTART_BACKOFF_FIRST_MS = 100;
const RESTART_BACKOFF_MAX_MS = 5_000;
/** How long a container is awaited after its SIGKILL. */
const KILL_WAIT_MS = 5_000;
const READY_POLL_MS = 20;
const START_ERROR_LOG_LINES = 20;

/** What the lifecycle reads and signals on a runtime's container (a process, an engine container). */
export interface LifecycleContainer {
  readonly running: boolean;
  /** The last exit, null while running or before the first start. */
  readonly exit: ExitInfo | null;
  readonly pid?: number;
  readonly log: { note(line: string): void; tail(maxLines?: number): string[] };
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit, or null if the container still runs after timeoutMs. */
  waitExit(timeoutMs: number): Promise<ExitInfo | null>;
}

/** The runtime's half of the lifecycle: how its containers are started, killed and probed. */
export interface ContainerDriver<C extends LifecycleContainer> {
  /** What a container runs as ("process", "container"), in the note its log gets when it exits. */
  readonly exitNoun: string;
  /**
   * Starts the container (again); the runtime reports its exit to PodLifecycle.exited. A runtime
   * that starts synchronously returns nothing, and nothing is awaited (see startContainer).
   */
  start(container: C, name: string): void | Promise<void>;
  /** SIGKILL to everything the container runs. */
  kill(container: C): void | Promise<void>;
  probe(container: C, name: string, action: ProbeAction, timeoutMs: number): Promise<ProbeResult>;
  /** Lets an exited container's last output arrive, before an error quotes it. */
  drainLogs?(container: C): Promise<void>;
}

interface ContainerState<C> {
  spec: ContainerSpec;
  container: C;
  status: ContainerStatus;
  consecutiveReadinessFailures: number;
  readinessTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
  /** Set while restart() or stop() owns the container, so an exit is not auto-restarted. */
  managed: boolean;
  nextBackoffMs: number;
}

export class PodLifecycle<C extends LifecycleContainer> {
  private readonly states = new Map<string, ContainerState<C>>();
  private readonly podEvents: PodEvent[] = [];
  private readonly startedAtMs = performance.now();
  private stopping: Promise<StoppedPod> | null = null;

  constructor(
    private readonly spec: PodSpec,
    private readonly driver: ContainerDriver<C>,
  ) {}

  /**
   * Creates the containers, calls `onCreated` (before any of them starts), starts them in
   * order and waits until the pod is ready; else throws a PodStartError.
   */
  async start(create: (spec: ContainerSpec) => C, readyTimeoutMs?: number, onCreated?: () => void): Promise<void> {
    for (const spec of this.spec.containers) this.states.set(spec.name, newState(spec, create(spec)));
    onCreated?.();
    const sidecars = this.spec.containers.filter((c) => c.kind === "sidecar");
    const mains = this.spec.containers.filter((c) => c.kind === "main");
    for (const sidecar of sidecars) await this.startContainer(this.state(sidecar.name));
    await Promise.all(mains.map((main) => this.startContainer(this.state(main.name))));
    const timeoutMs = readyTimeoutMs ?? Math.max(...this.spec.containers.map((c) => c.startupTimeoutMs));
    await this.waitPodReady(timeoutMs);
  }

  /** The container named `name`, or an error naming those the pod has. */
  container(name: string): C {
    return this.state(name).container;
  }

  /** Every container, in start order (none before start()). */
  containers(): C[] {
    return [...this.states.values()].map((state) => state.container);
  }

  status(): ContainerStatus[] {
    return [...this.states.values()].map((c) => ({ ...c.status }));
  }

  isReady(): boolean {
    return [...this.states.values()].every((c) => c.status.ready);
  }

  events(): PodEvent[] {
    return [...this.podEvents];
  }

  /** Stops the container (SIGTERM, grace, SIGKILL) and starts it again through its startup probe. */
  async restart(name: string): Promise<void> {
    const state = this.state(name);
    state.managed = true;
    try {
      await this.terminate(state, performance.now() + this.spec.terminationGracePeriodMs);
      this.record(name, "restarting", "requested");
      state.status.restartCount++;
      await this.startContainer(state);
    } finally {
      state.managed = false;
    }
  }

  /**
   * Stops in Kubernetes order within `graceMs` (default: the spec's grace period), then
   * `release` frees what the runtime holds. Safe twice: the first stop is the only one.
   */
  stop(release: () => Promise<void>, graceMs = this.spec.terminationGracePeriodMs): Promise<StoppedPod> {
    this.stopping ??= this.stopInOrder(release, graceMs);
    return this.stopping;
  }

  /** Every exit the runtime observes comes here (a process's 'exit', an engine's 'die'). */
  exited(name: string, exit: ExitInfo): void {
    const state = this.state(name);
    const { spec, status } = state;
    status.state = "exited";
    status.exitCode = exit.code;
    status.exitSignal = exit.signal;
    status.ready = false;
    clearInterval(state.readinessTimer);
    this.record(spec.name, "exited", describeExit(exit));
    state.container.log.note(`${this.driver.exitNoun} exited ${describeExit(exit)}`);
    // Sidecars restart while the pod runs, mains only under restartPolicy Always; restarts
    // during start-up are the start's failure.
    const restarts = spec.kind === "sidecar" || this.spec.restartPolicy === "Always";
    if (!restarts || state.managed || this.stopping || !status.started) return;
    const backoffMs = state.nextBackoffMs;
    state.nextBackoffMs = Math.min(backoffMs * 2, RESTART_BACKOFF_MAX_MS);
    state.restartTimer = setTimeout(() => {
      if (this.stopping || state.managed) return;
      status.restartCount++;
      this.record(spec.name, "restarting", `after ${backoffMs} ms back-off`);
      this.startContainer(state).catch((error: Error) => state.container.log.note(`restart failed: ${error.message}`));
    }, backoffMs);
  }

  private async stopInOrder(release: () => Promise<void>, graceMs: number): Promise<StoppedPod> {
    const began = performance.now();
    const deadline = began + graceMs;
    for (const state of this.states.values()) {
      state.managed = true;
      clearInterval(state.readinessTimer);
      clearTimeout(state.restartTimer);
    }
    const all = [...this.states.values()];
    const mains = all.filter((c) => c.spec.kind === "main");
    const sidecarsReversed = all.filter((c) => c.spec.kind === "sidecar").reverse();
    const killed = new Set<string>();
    await Promise.all(mains.map((state) => this.terminate(state, deadline, killed)));
    for (const sidecar of sidecarsReversed) await this.terminate(sidecar, deadline, killed);
    await release();
    return {
      containers: all.map((state) => ({
        name: state.spec.name,
        exitCode: state.container.exit?.code ?? null,
        signal: state.container.exit?.signal ?? null,
        killed: killed.has(state.spec.name),
      })),
      stopDurationMs: performance.now() - began,
      events: this.events(),
    };
  }

  /** SIGTERM, wait until `deadline`, then SIGKILL. */
  private async terminate(state: ContainerState<C>, deadline: number, killed?: Set<string>): Promise<void> {
    const { spec, container } = state;
    state.status.ready = false;
    if (!container.running) return;
    this.record(spec.name, "sigterm");
    container.signal("SIGTERM");
    const exit = await container.waitExit(deadline - performance.now());
    if (exit === null) {
      this.record(spec.name, "sigkill", "still running at the end of the grace period");
      killed?.add(spec.name);
      await this.driver.kill(container);
      await container.waitExit(KILL_WAIT_MS);
    }
    this.record(spec.name, "stopped", describeExit(container.exit));
  }

  /** Starts the container and waits for its startup probe (or only for it to be running). */
  private async startContainer(state: ContainerState<C>): Promise<void> {
    const { spec, status, container } = state;
    status.state = "starting";
    status.started = false;
    status.ready = false;
    this.record(spec.name, "starting");
    // A synchronous start (a local process) is not awaited: a main without probes then
    // reaches "ready" before the next main is started, so the events keep that order.
    const starting = this.driver.start(container, spec.name);
    if (starting) await starting;
    status.pid = container.pid;
    const probe = spec.probes.startup;
    const deadline = performance.now() + spec.startupTimeoutMs;
    let lastDetail = "no startup probe";
    while (probe) {
      if (!container.running) throw await this.startError(state, `exited ${describeExit(container.exit)} before its startup probe passed`);
      const result = await this.driver.probe(container, spec.name, probe.action, probe.timeoutMs);
      lastDetail = result.detail;
      if (result.ok) break;
      if (performance.now() > deadline) {
        throw await this.startError(state, `startup probe did not pass within ${spec.startupTimeoutMs} ms (last: ${lastDetail})`);
      }
      await sleep(probe.periodMs);
    }
    if (!container.running) throw await this.startError(state, `exited ${describeExit(container.exit)} right after starting`);
    status.state = "running";
    status.started = true;
    status.timeToStartedMs ??= performance.now() - this.startedAtMs;
    this.record(spec.name, "started", lastDetail);
    this.watchReadiness(state);
  }

  private watchReadiness(state: ContainerState<C>): void {
    const probe = state.spec.probes.readiness;
    clearInterval(state.readinessTimer);
    if (!probe) {
      this.setReady(state, true);
      return;
    }
    let inFlight = false;
    const check = async () => {
      if (inFlight || !state.container.running || this.stopping) return;
      inFlight = true;
      const result = await this.driver.probe(state.container, state.spec.name, probe.action, probe.timeoutMs);
      inFlight = false;
      if (this.stopping || !state.container.running) return;
      if (result.ok) {
        state.consecutiveReadinessFailures = 0;
        this.setReady(state, true);
      } else if (++state.consecutiveReadinessFailures >= probe.failureThreshold || !state.status.ready) {
        this.setReady(state, false, result.detail);
      }
    };
    state.readinessTimer = setInterval(check, probe.periodMs);
    state.readinessTimer.unref();
    void check();
  }

  private setReady(state: ContainerState<C>, ready: boolean, detail?: string): void {
    if (state.status.ready === ready) return;
    state.status.ready = ready;
    if (ready) state.status.timeToReadyMs ??= performance.now() - this.startedAtMs;
    this.record(state.spec.name, ready ? "ready" : "not-ready", detail);
  }

  private async waitPodReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isReady()) {
      const exited = [...this.states.values()].find((c) => !c.container.running);
      if (exited) throw await this.startError(exited, `exited ${describeExit(exited.container.exit)} before the pod became ready`);
      if (performance.now() > deadline) {
        const notReady = [...this.states.values()].find((c) => !c.status.ready)!;
        throw await this.startError(notReady, `not ready within ${Math.round(timeoutMs)} ms (readiness probe failing)`);
      }
      await sleep(READY_POLL_MS);
    }
  }

  private async startError(state: ContainerState<C>, what: string): Promise<PodStartError> {
    const { spec, container } = state;
    if (!container.running) await this.driver.drainLogs?.(container);
    const lines = container.log.tail(START_ERROR_LOG_LINES);
    const shown = lines.length > 0 ? `\nlast log lines of "${spec.name}":\n  ${lines.join("\n  ")}` : "";
    return new PodStartError(`pod ${this.spec.name}: container "${spec.name}" ${what}${shown}`, spec.name, lines);
  }

  private record(container: string, type: PodEvent["type"], detail?: string): void {
    this.podEvents.push({ atMs: performance.now() - this.startedAtMs, container, type, ...(detail ? { detail } : {}) });
  }

  private state(name: string): ContainerState<C> {
    const state = this.states.get(name);
    if (!state) throw new Error(`pod ${this.spec.name} has no container "${name}" (has: ${[...this.states.keys()].join(", ")})`);
    return state;
  }
}

function newState<C>(spec: ContainerSpec, container: C): ContainerState<C> {
  return {
    spec,
    container,
    status: { name: spec.name, kind: spec.kind, state: "waiting", started: false, ready: false, restartCount: 0 },
    consecutiveReadinessFailures: 0,
    managed: false,
    nextBackoffMs: RESTART_BACKOFF_FIRST_MS,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
