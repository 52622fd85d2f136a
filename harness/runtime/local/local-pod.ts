// A started local pod. Follows Kubernetes native sidecars:
// - start: sidecars one by one, each gating the next on its startup probe; then the
//   main containers together;
// - ready: every container with a readiness probe passes it (others: running);
// - restart: a sidecar that exits is restarted (with back-off) while the pod runs; a
//   main container only under the pod's restartPolicy Always (default Never);
// - stop: SIGTERM to mains; once they have exited, SIGTERM to sidecars in reverse
//   start order, each awaited; one grace period for all, then SIGKILL.
import { join } from "node:path";
import type {
  ContainerSpec,
  ContainerStats,
  ContainerStatus,
  PodEvent,
  PodSpec,
  StartedPod,
  StoppedPod,
} from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { runProbe } from "../probe.ts";
import { renderTemplate } from "../template.ts";
import { type CgroupLayout, ContainerCgroup, CGROUP_PARENT } from "./cgroup.ts";
import { allocatePodPorts } from "./port-allocator.ts";
import { ProcessContainer, type ExitInfo } from "./process-container.ts";
import { sampleProcessTree } from "./proc-stats.ts";
import { LABEL_CONTAINER, LABEL_OWNER, LABEL_POD, LABEL_RUN_ID } from "./run-labels.ts";

const HOST = "127.0.0.1";
const RESTART_BACKOFF_FIRST_MS = 100;
const RESTART_BACKOFF_MAX_MS = 5_000;

export interface LocalPodContext {
  podDir: string;
  path: string;
  owner: string;
  cgroupLayout: CgroupLayout | null;
  onStopped: () => void;
}

interface ContainerState {
  spec: ContainerSpec;
  process: ProcessContainer;
  cgroup: ContainerCgroup | null;
  status: ContainerStatus;
  consecutiveReadinessFailures: number;
  readinessTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
  /** Set while restart() or stop() owns the process, so an exit is not auto-restarted. */
  managed: boolean;
  nextBackoffMs: number;
}

export class LocalPod implements StartedPod {
  private readonly containers = new Map<string, ContainerState>();
  private readonly podEvents: PodEvent[] = [];
  private ports: Record<string, Record<string, number>> = {};
  private readonly startedAtMs = performance.now();
  private stopping: Promise<StoppedPod> | null = null;

  constructor(
    readonly spec: PodSpec,
    private readonly context: LocalPodContext,
  ) {}

  async start(readyTimeoutMs?: number): Promise<void> {
    this.ports = await allocatePodPorts(this.spec.containers, HOST);
    for (const spec of this.spec.containers) this.containers.set(spec.name, this.createContainer(spec));
    const sidecars = this.spec.containers.filter((c) => c.kind === "sidecar");
    const mains = this.spec.containers.filter((c) => c.kind === "main");
    for (const sidecar of sidecars) await this.startContainer(this.state(sidecar.name));
    await Promise.all(mains.map((main) => this.startContainer(this.state(main.name))));
    const timeoutMs = readyTimeoutMs ?? Math.max(...this.spec.containers.map((c) => c.startupTimeoutMs));
    await this.waitPodReady(timeoutMs);
  }

  url(container: string, port: string): string {
    return `http://${HOST}:${this.port(container, port)}`;
  }

  port(container: string, port: string): number {
    const value = this.ports[container]?.[port];
    if (value === undefined) throw new Error(`pod ${this.spec.name} has no port "${port}" on container "${container}"`);
    return value;
  }

  status(): ContainerStatus[] {
    return [...this.containers.values()].map((c) => ({ ...c.status }));
  }

  isReady(): boolean {
    return [...this.containers.values()].every((c) => c.status.ready);
  }

  async stats(container: string): Promise<ContainerStats> {
    const state = this.state(container);
    const sampledAtMs = Date.now();
    if (state.cgroup) {
      const sample = state.cgroup.sample();
      return { ...sample, source: state.cgroup.version, sampledAtMs };
    }
    const pid = state.process.pid;
    const sample = pid !== undefined && state.process.running ? sampleProcessTree(pid) : { cpuUsageUs: 0, memoryBytes: 0 };
    return { ...sample, source: "proc", sampledAtMs };
  }

  logs(container: string, maxLines = 50): string[] {
    return this.state(container).process.log.tail(maxLines);
  }

  signal(container: string, sig: NodeJS.Signals): void {
    this.state(container).process.signal(sig);
  }

  events(): PodEvent[] {
    return [...this.podEvents];
  }

  /** Stops the container (SIGTERM, grace, SIGKILL) and starts it again through its startup probe. */
  async restart(container: string): Promise<void> {
    const state = this.state(container);
    state.managed = true;
    try {
      await this.terminate(state, performance.now() + this.spec.terminationGracePeriodMs);
      this.record(container, "restarting", "requested");
      state.status.restartCount++;
      await this.startContainer(state);
    } finally {
      state.managed = false;
    }
  }

  stop(): Promise<StoppedPod> {
    this.stopping ??= this.stopInOrder();
    return this.stopping;
  }

  /** Synchronous last resort for process exit: SIGKILL everything, no waiting. */
  killAllNow(): void {
    for (const state of this.containers.values()) state.process.killAll();
  }

  private async stopInOrder(): Promise<StoppedPod> {
    const began = performance.now();
    const deadline = began + this.spec.terminationGracePeriodMs;
    for (const state of this.containers.values()) {
      state.managed = true;
      clearInterval(state.readinessTimer);
      clearTimeout(state.restartTimer);
    }
    const all = [...this.containers.values()];
    const mains = all.filter((c) => c.spec.kind === "main");
    const sidecarsReversed = all.filter((c) => c.spec.kind === "sidecar").reverse();
    const killed = new Set<string>();
    await Promise.all(mains.map((state) => this.terminate(state, deadline, killed)));
    for (const sidecar of sidecarsReversed) await this.terminate(sidecar, deadline, killed);
    for (const state of all) {
      state.process.killAll(); // leftovers of a process group that outlived its leader
      await state.process.log.close();
      if (state.cgroup) await removeWhenEmpty(state.cgroup);
    }
    this.context.onStopped();
    return {
      containers: all.map((state) => ({
        name: state.spec.name,
        exitCode: state.process.exit?.code ?? null,
        signal: state.process.exit?.signal ?? null,
        killed: killed.has(state.spec.name),
      })),
      stopDurationMs: performance.now() - began,
      events: this.events(),
    };
  }

  /** SIGTERM, wait until `deadline`, then SIGKILL. */
  private async terminate(state: ContainerState, deadline: number, killed?: Set<string>): Promise<void> {
    const name = state.spec.name;
    state.status.ready = false;
    if (!state.process.running) return;
    this.record(name, "sigterm");
    state.process.signal("SIGTERM");
    const exit = await state.process.waitExit(deadline - performance.now());
    if (exit === null) {
      this.record(name, "sigkill", "still running at the end of the grace period");
      killed?.add(name);
      state.process.killAll();
      await state.process.waitExit(5_000);
    }
    this.record(name, "stopped", describeExit(state.process.exit));
  }

  private createContainer(spec: ContainerSpec): ContainerState {
    const layout = this.context.cgroupLayout;
    const cgroup = layout ? new ContainerCgroup(layout, `${CGROUP_PARENT}/${this.spec.runId}/${this.spec.name}.${spec.name}`) : null;
    cgroup?.create(spec.resources);
    const render = (text: string, origin: string) =>
      renderTemplate(text, {
        container: spec.name,
        ports: this.ports,
        host: HOST,
        baseDir: spec.baseDir,
        outDir: join(this.context.podDir, "config"),
        origin: `container "${spec.name}" ${origin}`,
      });
    const command = spec.command.map((arg, i) => render(arg, `command[${i}]`));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: this.context.path };
    for (const [key, value] of Object.entries(spec.env ?? {})) env[key] = render(value, `env.${key}`);
    Object.assign(env, {
      [LABEL_RUN_ID]: this.spec.runId,
      [LABEL_OWNER]: this.context.owner,
      [LABEL_POD]: this.spec.name,
      [LABEL_CONTAINER]: spec.name,
    });
    const processContainer = new ProcessContainer({
      name: spec.name,
      command,
      env,
      cwd: spec.baseDir,
      cgroup,
      cpuSet: this.spec.cpuSet,
      logFile: join(this.context.podDir, `${spec.name}.log`),
    });
    return {
      spec,
      process: processContainer,
      cgroup,
      status: { name: spec.name, kind: spec.kind, state: "waiting", started: false, ready: false, restartCount: 0 },
      consecutiveReadinessFailures: 0,
      managed: false,
      nextBackoffMs: RESTART_BACKOFF_FIRST_MS,
    };
  }

  /** Spawns the process and waits for its startup probe (or only for it to be running). */
  private async startContainer(state: ContainerState): Promise<void> {
    const { spec, status } = state;
    status.state = "starting";
    status.started = false;
    status.ready = false;
    this.record(spec.name, "starting");
    state.process.start((exit) => this.onExit(state, exit));
    status.pid = state.process.pid;
    const probe = spec.probes.startup;
    const deadline = performance.now() + spec.startupTimeoutMs;
    let lastDetail = "no startup probe";
    while (probe) {
      if (!state.process.running) throw this.startError(state, `exited ${describeExit(state.process.exit)} before its startup probe passed`);
      const result = await runProbe(probe.action, this.probeTarget(spec), probe.timeoutMs);
      lastDetail = result.detail;
      if (result.ok) break;
      if (performance.now() > deadline) {
        throw this.startError(state, `startup probe did not pass within ${spec.startupTimeoutMs} ms (last: ${lastDetail})`);
      }
      await sleep(probe.periodMs);
    }
    if (!state.process.running) throw this.startError(state, `exited ${describeExit(state.process.exit)} right after starting`);
    status.state = "running";
    status.started = true;
    status.timeToStartedMs ??= performance.now() - this.startedAtMs;
    this.record(spec.name, "started", lastDetail);
    this.watchReadiness(state);
  }

  private watchReadiness(state: ContainerState): void {
    const probe = state.spec.probes.readiness;
    clearInterval(state.readinessTimer);
    if (!probe) {
      this.setReady(state, true);
      return;
    }
    let inFlight = false;
    const check = async () => {
      if (inFlight || !state.process.running || this.stopping) return;
      inFlight = true;
      const result = await runProbe(probe.action, this.probeTarget(state.spec), probe.timeoutMs);
      inFlight = false;
      if (this.stopping || !state.process.running) return;
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

  private setReady(state: ContainerState, ready: boolean, detail?: string): void {
    if (state.status.ready === ready) return;
    state.status.ready = ready;
    if (ready) state.status.timeToReadyMs ??= performance.now() - this.startedAtMs;
    this.record(state.spec.name, ready ? "ready" : "not-ready", detail);
  }

  private onExit(state: ContainerState, exit: ExitInfo): void {
    const { spec, status } = state;
    status.state = "exited";
    status.exitCode = exit.code;
    status.exitSignal = exit.signal;
    status.ready = false;
    clearInterval(state.readinessTimer);
    this.record(spec.name, "exited", describeExit(exit));
    state.process.log.note(`process exited ${describeExit(exit)}`);
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
      this.startContainer(state).catch((error: Error) => state.process.log.note(`restart failed: ${error.message}`));
    }, backoffMs);
  }

  private async waitPodReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isReady()) {
      const exited = [...this.containers.values()].find((c) => !c.process.running);
      if (exited) throw this.startError(exited, `exited ${describeExit(exited.process.exit)} before the pod became ready`);
      if (performance.now() > deadline) {
        const notReady = [...this.containers.values()].find((c) => !c.status.ready)!;
        throw this.startError(notReady, `not ready within ${Math.round(timeoutMs)} ms (readiness probe failing)`);
      }
      await sleep(20);
    }
  }

  private probeTarget(spec: ContainerSpec) {
    return { host: HOST, port: (name: string) => this.port(spec.name, name), env: { ...process.env, PATH: this.context.path } };
  }

  private startError(state: ContainerState, what: string): PodStartError {
    const lines = state.process.log.tail(20);
    const shown = lines.length > 0 ? `\nlast log lines of "${state.spec.name}":\n  ${lines.join("\n  ")}` : "";
    return new PodStartError(`pod ${this.spec.name}: container "${state.spec.name}" ${what}${shown}`, state.spec.name, lines);
  }

  private record(container: string, type: PodEvent["type"], detail?: string): void {
    this.podEvents.push({ atMs: performance.now() - this.startedAtMs, container, type, ...(detail ? { detail } : {}) });
  }

  private state(name: string): ContainerState {
    const state = this.containers.get(name);
    if (!state) throw new Error(`pod ${this.spec.name} has no container "${name}" (has: ${[...this.containers.keys()].join(", ")})`);
    return state;
  }
}

function describeExit(exit: ExitInfo | null): string {
  if (!exit) return "(still running)";
  return exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function removeWhenEmpty(cgroup: ContainerCgroup): Promise<void> {
  for (let attempt = 0; attempt < 40 && !cgroup.remove(); attempt++) await sleep(25);
}
