// A started docker pod, with the local pod's semantics (Kubernetes native sidecars):
// - start: the pause container, then sidecars one by one, each gating the next on its
//   startup probe; then the main containers together;
// - ready: every container with a readiness probe passes it (others: running);
// - restart: a sidecar whose container dies (engine "die" event) is restarted with
//   back-off while the pod runs; a main only under restartPolicy Always;
// - stop: SIGTERM to mains; once they have exited, SIGTERM to sidecars in reverse
//   start order, each awaited; one grace period for all, then SIGKILL.
// Containers share the pause container's network and PID namespaces and use the declared port
// numbers on 127.0.0.1; the harness reaches them through the ports the pause container
// publishes on the host's 127.0.0.1. Commands run in the manifest's directory, inside
// its source tree mounted read-only at its own path (pod-mounts.ts), and rendered
// `{{ file }}` configs are mounted the same way, so commands and templates mean exactly
// what they mean on the local runtime.
import type Dockerode from "dockerode";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ContainerSpec, ContainerStats, ContainerStatus, PodEvent, PodSpec, StartedPod, StoppedPod } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { runProbe } from "../probe.ts";
import { renderTemplate } from "../template.ts";
import { LABEL_CONTAINER as ENV_CONTAINER, LABEL_POD as ENV_POD, LABEL_RUN_ID as ENV_RUN_ID } from "../local/run-labels.ts";
import { DockerContainer } from "./docker-container.ts";
import { type EventSubscription, subscribePodEvents } from "./docker-events.ts";
import { LABEL_CONTAINER, LABEL_POD, LABEL_RUN_ID, type OwnerLabels } from "./docker-labels.ts";
import { execProbe } from "./exec-probe.ts";
import { type ExitInfo, describeExit } from "./exit-info.ts";
import { podMounts } from "./pod-mounts.ts";
import { PodSandbox } from "./pod-sandbox.ts";

const HOST = "127.0.0.1";
const RESTART_BACKOFF_FIRST_MS = 100;
const RESTART_BACKOFF_MAX_MS = 5_000;

export interface DockerPodContext {
  dockerode: Dockerode;
  podDir: string;
  network: string;
  images: Record<string, string>;
  owner: OwnerLabels;
  onStopped: () => void;
}

interface ContainerState {
  spec: ContainerSpec;
  container: DockerContainer;
  status: ContainerStatus;
  consecutiveReadinessFailures: number;
  readinessTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
  /** Set while restart() or stop() owns the container, so a death is not auto-restarted. */
  managed: boolean;
  nextBackoffMs: number;
}

export class DockerPod implements StartedPod {
  private readonly containers = new Map<string, ContainerState>();
  private readonly podEvents: PodEvent[] = [];
  /** Declared ports: inside the pod's namespace they are used as is. */
  private readonly ports: Record<string, Record<string, number>>;
  private readonly startedAtMs = performance.now();
  private sandbox: PodSandbox | null = null;
  private subscription: EventSubscription | null = null;
  private stopping: Promise<StoppedPod> | null = null;

  constructor(
    readonly spec: PodSpec,
    private readonly context: DockerPodContext,
  ) {
    this.ports = Object.fromEntries(spec.containers.map((c) => [c.name, { ...c.ports }]));
  }

  async start(readyTimeoutMs?: number): Promise<void> {
    const { dockerode } = this.context;
    // Subscribed before anything starts, so no death goes unseen.
    this.subscription = await subscribePodEvents(dockerode, { runId: this.spec.runId, pod: this.spec.name }, (event) => {
      for (const state of this.containers.values()) {
        if (state.container.owns(event.containerId)) state.container.handleEvent(event.containerId, event.action, event.exitCode);
      }
    });
    const declaredPorts = [...new Set(this.spec.containers.flatMap((c) => Object.values(c.ports)))];
    this.sandbox = await PodSandbox.start(dockerode, {
      name: `sidecar-bench-${this.spec.runId}-${this.spec.name}`,
      network: this.context.network,
      ports: declaredPorts,
      labels: this.labels("pause"),
      cpuSet: this.spec.cpuSet,
    });
    for (const spec of this.spec.containers) this.containers.set(spec.name, this.createContainer(spec, this.sandbox));
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

  /** The host-side port that reaches `port` of `container` (published by the pause container). */
  port(container: string, port: string): number {
    const declared = this.ports[container]?.[port];
    if (declared === undefined || !this.sandbox) throw new Error(`pod ${this.spec.name} has no port "${port}" on container "${container}"`);
    return this.sandbox.hostPort(declared);
  }

  status(): ContainerStatus[] {
    return [...this.containers.values()].map((c) => ({ ...c.status }));
  }

  isReady(): boolean {
    return [...this.containers.values()].every((c) => c.status.ready);
  }

  async stats(container: string): Promise<ContainerStats> {
    const sample = await this.state(container).container.stats();
    return { ...sample, source: "docker", sampledAtMs: Date.now() };
  }

  logs(container: string, maxLines = 50): string[] {
    return this.state(container).container.log.tail(maxLines);
  }

  signal(container: string, sig: NodeJS.Signals): void {
    this.state(container).container.signal(sig);
  }

  events(): PodEvent[] {
    return [...this.podEvents];
  }

  /** Stops the container (SIGTERM, grace, SIGKILL) and starts a new one through its startup probe. */
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

  /** Engine ids of every container of the pod, the pause container included (last resort at exit). */
  containerIds(): string[] {
    return [...(this.sandbox ? [this.sandbox.id] : []), ...[...this.containers.values()].flatMap((s) => s.container.containerIds)];
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
    this.subscription?.close();
    for (const state of all) await state.container.remove();
    await this.sandbox?.remove(this.context.dockerode);
    this.context.onStopped();
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
  private async terminate(state: ContainerState, deadline: number, killed?: Set<string>): Promise<void> {
    const name = state.spec.name;
    state.status.ready = false;
    if (!state.container.running) return;
    this.record(name, "sigterm");
    state.container.signal("SIGTERM");
    const exit = await state.container.waitExit(deadline - performance.now());
    if (exit === null) {
      this.record(name, "sigkill", "still running at the end of the grace period");
      killed?.add(name);
      await state.container.killNow();
      await state.container.waitExit(5_000);
    }
    this.record(name, "stopped", describeExit(state.container.exit));
  }

  private createContainer(spec: ContainerSpec, sandbox: PodSandbox): ContainerState {
    const configDir = join(this.context.podDir, "config");
    // The container's /tmp outlives its restarts, as an emptyDir volume would (fixtures
    // detect their own restarts through marker files there).
    const tmpDir = join(this.context.podDir, "tmp", spec.name);
    mkdirSync(configDir, { recursive: true });
    mkdirSync(tmpDir, { recursive: true });
    const render = (text: string, origin: string) =>
      renderTemplate(text, {
        container: spec.name,
        ports: this.ports,
        host: HOST,
        baseDir: spec.baseDir,
        outDir: configDir,
        origin: `container "${spec.name}" ${origin}`,
      });
    const command = spec.command.map((arg, i) => render(arg, `command[${i}]`));
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(spec.env ?? {})) env[key] = render(value, `env.${key}`);
    // The same identity a local container has in its environment (fixtures key state on it).
    Object.assign(env, { [ENV_RUN_ID]: this.spec.runId, [ENV_POD]: this.spec.name, [ENV_CONTAINER]: spec.name });
    const image = this.context.images[spec.name]!;
    const container = new DockerContainer(
      spec,
      {
        image,
        command,
        env,
        labels: this.labels(spec.name),
        namePrefix: `sidecar-bench-${this.spec.runId}-${this.spec.name}-${spec.name}`,
        networkMode: sandbox.networkMode,
        pidMode: sandbox.pidMode,
        workingDir: spec.baseDir,
        bindMounts: podMounts({ baseDir: spec.baseDir, configDir, tmpDir }),
        cpuSet: this.spec.cpuSet,
      },
      this.context.dockerode,
      join(this.context.podDir, `${spec.name}.log`),
      (exit) => this.onExit(state, exit),
    );
    const state: ContainerState = {
      spec,
      container,
      status: { name: spec.name, kind: spec.kind, state: "waiting", started: false, ready: false, restartCount: 0 },
      consecutiveReadinessFailures: 0,
      managed: false,
      nextBackoffMs: RESTART_BACKOFF_FIRST_MS,
    };
    return state;
  }

  /** Starts a new engine container and waits for its startup probe (or only for it to be running). */
  private async startContainer(state: ContainerState): Promise<void> {
    const { spec, status } = state;
    status.state = "starting";
    status.started = false;
    status.ready = false;
    this.record(spec.name, "starting");
    await state.container.start();
    status.pid = state.container.pid;
    const probe = spec.probes.startup;
    const deadline = performance.now() + spec.startupTimeoutMs;
    let lastDetail = "no startup probe";
    while (probe) {
      if (!state.container.running) throw await this.startError(state, `exited ${describeExit(state.container.exit)} before its startup probe passed`);
      const result = await this.probe(state, probe.action, probe.timeoutMs);
      lastDetail = result.detail;
      if (result.ok) break;
      if (performance.now() > deadline) {
        throw await this.startError(state, `startup probe did not pass within ${spec.startupTimeoutMs} ms (last: ${lastDetail})`);
      }
      await sleep(probe.periodMs);
    }
    if (!state.container.running) throw await this.startError(state, `exited ${describeExit(state.container.exit)} right after starting`);
    status.state = "running";
    status.started = true;
    status.timeToStartedMs ??= performance.now() - this.startedAtMs;
    this.record(spec.name, "started", lastDetail);
    this.watchReadiness(state);
  }

  private probe(state: ContainerState, action: NonNullable<ContainerSpec["probes"]["startup"]>["action"], timeoutMs: number) {
    // Exec probes run inside the container, as kubelet runs them; http and tcp go through the published ports.
    if ("exec" in action) return execProbe(this.context.dockerode, state.container, action.exec.command, timeoutMs);
    return runProbe(action, { host: HOST, port: (name: string) => this.port(state.spec.name, name) }, timeoutMs);
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
      if (inFlight || !state.container.running || this.stopping) return;
      inFlight = true;
      const result = await this.probe(state, probe.action, probe.timeoutMs);
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
    state.container.log.note(`container exited ${describeExit(exit)}`);
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

  private async waitPodReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isReady()) {
      const exited = [...this.containers.values()].find((c) => !c.container.running);
      if (exited) throw await this.startError(exited, `exited ${describeExit(exited.container.exit)} before the pod became ready`);
      if (performance.now() > deadline) {
        const notReady = [...this.containers.values()].find((c) => !c.status.ready)!;
        throw await this.startError(notReady, `not ready within ${Math.round(timeoutMs)} ms (readiness probe failing)`);
      }
      await sleep(20);
    }
  }

  private async startError(state: ContainerState, what: string): Promise<PodStartError> {
    if (!state.container.running) await state.container.drainLogs();
    const lines = state.container.log.tail(20);
    const shown = lines.length > 0 ? `\nlast log lines of "${state.spec.name}":\n  ${lines.join("\n  ")}` : "";
    return new PodStartError(`pod ${this.spec.name}: container "${state.spec.name}" ${what}${shown}`, state.spec.name, lines);
  }

  private labels(container: string): Record<string, string> {
    return { [LABEL_RUN_ID]: this.spec.runId, [LABEL_POD]: this.spec.name, [LABEL_CONTAINER]: container, ...this.context.owner };
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

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
