// A started docker pod: the shared lifecycle (pod-lifecycle.ts: Kubernetes native sidecars'
// start order, probes, restarts, stop order and events), as on the local runtime, over
// engine containers. What is docker's: the pause container starts first and is removed
// last; each (re)start of a container is a new engine container (docker-container.ts),
// whose death the pod learns from the engine's "die" event; exec probes run inside the
// container, through the engine.
// Containers share the pause container's network and PID namespaces and use the declared port
// numbers on 127.0.0.1; the harness reaches them through the ports the pause container
// publishes on the host's 127.0.0.1 (and its NAT rules route to 127.0.0.1 in the pod). Commands run in the manifest's directory, inside
// its source tree mounted read-only at its own path (pod-mounts.ts), and rendered
// `{{ file }}` configs are mounted the same way, so commands and templates mean exactly
// what they mean on the local runtime.
import type Dockerode from "dockerode";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type {
  ContainerLogUsage,
  ContainerSpec,
  ContainerStats,
  ContainerStatus,
  PodEvent,
  PodSpec,
  ProbeAction,
  StartedPod,
  StopOptions,
  StoppedPod,
} from "../pod-runtime.ts";
import { PodLifecycle } from "../pod-lifecycle.ts";
import { type ProbeResult, runProbe } from "../probe.ts";
import { createVolumeDirs, mountedVolumes, removeVolumeDirs } from "../pod-volumes.ts";
import { renderProbeAction, renderTemplate } from "../template.ts";
import { LABEL_CONTAINER as ENV_CONTAINER, LABEL_POD as ENV_POD, LABEL_RUN_ID as ENV_RUN_ID } from "../local/run-labels.ts";
import { DockerContainer } from "./docker-container.ts";
import { type EventSubscription, subscribePodEvents } from "./docker-events.ts";
import { LABEL_CONTAINER, LABEL_POD, LABEL_RUN_ID, type OwnerLabels } from "./docker-labels.ts";
import { execProbe } from "./exec-probe.ts";
import { podMounts } from "./pod-mounts.ts";
import { PodSandbox } from "./pod-sandbox.ts";
import type { PortPublishing } from "./port-publishing.ts";

const HOST = "127.0.0.1";

export interface DockerPodContext {
  dockerode: Dockerode;
  podDir: string;
  network: string;
  images: Record<string, string>;
  owner: OwnerLabels;
  /** Cap of each container's log file. */
  logMaxBytes: number;
  onStopped: () => void;
}

export class DockerPod implements StartedPod {
  private readonly lifecycle: PodLifecycle<DockerContainer>;
  /** Declared ports: inside the pod's namespace they are used as is. */
  private readonly ports: Record<string, Record<string, number>>;
  /** Each container's template renderer (for its exec probes). */
  private readonly renderers = new Map<string, (text: string, origin: string) => string>();
  /** Host directories of the pod's volumes, bind-mounted at the same path (pod-volumes.ts). */
  private readonly volumes: Record<string, string>;
  private sandbox: PodSandbox | null = null;
  private subscription: EventSubscription | null = null;

  constructor(
    readonly spec: PodSpec,
    private readonly context: DockerPodContext,
  ) {
    this.ports = Object.fromEntries(spec.containers.map((c) => [c.name, { ...c.ports }]));
    this.volumes = createVolumeDirs(context.podDir, spec);
    this.lifecycle = new PodLifecycle(spec, {
      exitNoun: "container",
      // Its exits come from the engine's "die" events (see start()), through the callback createContainer gives it.
      start: (container) => container.start(),
      kill: (container) => container.killNow(),
      probe: (container, name, action, timeoutMs) => this.probe(container, name, action, timeoutMs),
      drainLogs: (container) => container.drainLogs(),
    });
  }

  /** Starts the pause container (the pod's ports resolve from then on), then the pod (pod-lifecycle.ts), calling `onCreated` before its containers start. */
  async start(readyTimeoutMs?: number, onCreated?: () => void): Promise<void> {
    const { dockerode } = this.context;
    // Subscribed before anything starts, so no death goes unseen.
    this.subscription = await subscribePodEvents(dockerode, { runId: this.spec.runId, pod: this.spec.name }, (event) => {
      for (const container of this.lifecycle.containers()) {
        if (container.owns(event.containerId)) container.handleEvent(event.containerId, event.action, event.exitCode);
      }
    });
    const declaredPorts = [...new Set(this.spec.containers.flatMap((c) => Object.values(c.ports)))];
    const sandbox = await PodSandbox.start(dockerode, {
      name: `sidecar-bench-${this.spec.runId}-${this.spec.name}`,
      network: this.context.network,
      ports: declaredPorts,
      labels: this.labels("pause"),
      cpuSet: this.spec.cpuSet,
    });
    this.sandbox = sandbox;
    await this.lifecycle.start((spec) => this.createContainer(spec, sandbox), readyTimeoutMs, onCreated);
  }

  url(container: string, port: string): string {
    return `http://${HOST}:${this.port(container, port)}`;
  }

  volumePath(name: string): string | undefined {
    return this.volumes[name];
  }

  /** How the engine published this pod's ports (for the fingerprint); null before start or without ports. */
  portPublishing(): PortPublishing | null {
    return this.sandbox?.portPublishing() ?? null;
  }

  /** The host-side port that reaches `port` of `container` (published by the pause container). */
  port(container: string, port: string): number {
    const declared = this.ports[container]?.[port];
    if (declared === undefined || !this.sandbox) throw new Error(`pod ${this.spec.name} has no port "${port}" on container "${container}"`);
    return this.sandbox.hostPort(declared);
  }

  status(): ContainerStatus[] {
    return this.lifecycle.status();
  }

  async stats(container: string): Promise<ContainerStats> {
    const sample = await this.lifecycle.container(container).stats();
    return { ...sample, source: "docker", sampledAtMs: Date.now() };
  }

  logs(container: string, maxLines = 50): string[] {
    return this.lifecycle.container(container).log.tail(maxLines);
  }

  logUsage(container: string): ContainerLogUsage | null {
    return this.lifecycle.container(container).log.usage();
  }

  signal(container: string, sig: NodeJS.Signals): void {
    this.lifecycle.container(container).signal(sig);
  }

  events(): PodEvent[] {
    return this.lifecycle.events();
  }

  /** A new engine container for the container, through its startup probe (pod-lifecycle.ts). */
  restart(container: string): Promise<void> {
    return this.lifecycle.restart(container);
  }

  stop(options: StopOptions = {}): Promise<StoppedPod> {
    return this.lifecycle.stop(() => this.release(), options.graceMs);
  }

  /** Engine ids of every container of the pod, the pause container included (last resort at exit). */
  containerIds(): string[] {
    return [...(this.sandbox ? [this.sandbox.id] : []), ...this.lifecycle.containers().flatMap((c) => c.containerIds)];
  }

  /** After the lifecycle's stop: the event subscription, every engine container, then the pause container. */
  private async release(): Promise<void> {
    this.subscription?.close();
    for (const container of this.lifecycle.containers()) await container.remove();
    await this.sandbox?.remove(this.context.dockerode);
    removeVolumeDirs(this.volumes);
    this.context.onStopped();
  }

  private createContainer(spec: ContainerSpec, sandbox: PodSandbox): DockerContainer {
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
        volumes: mountedVolumes(spec, (name) => this.volumes[name]!),
        origin: `container "${spec.name}" ${origin}`,
      });
    this.renderers.set(spec.name, render);
    const command = spec.command.map((arg, i) => render(arg, `command[${i}]`));
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(spec.env ?? {})) env[key] = render(value, `env.${key}`);
    // The same identity a local container has in its environment (fixtures key state on it).
    Object.assign(env, { [ENV_RUN_ID]: this.spec.runId, [ENV_POD]: this.spec.name, [ENV_CONTAINER]: spec.name });
    const image = this.context.images[spec.name]!;
    return new DockerContainer(
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
        bindMounts: podMounts({ baseDir: spec.baseDir, configDir, tmpDir, volumes: Object.values(mountedVolumes(spec, (name) => this.volumes[name]!)) }),
        cpuSet: this.spec.cpuSet,
        logMaxBytes: this.context.logMaxBytes,
      },
      this.context.dockerode,
      join(this.context.podDir, `${spec.name}.log`),
      (exit) => this.lifecycle.exited(spec.name, exit),
    );
  }

  private probe(container: DockerContainer, name: string, action: ProbeAction, timeoutMs: number): Promise<ProbeResult> {
    // Exec probes run inside the container, as kubelet runs them; http and tcp go through the published ports.
    if ("exec" in action) {
      const rendered = renderProbeAction(action, this.renderers.get(name)!) as typeof action;
      return execProbe(this.context.dockerode, container, rendered.exec.command, timeoutMs);
    }
    return runProbe(action, { host: HOST, port: (port: string) => this.port(name, port) }, timeoutMs);
  }

  private labels(container: string): Record<string, string> {
    return { [LABEL_RUN_ID]: this.spec.runId, [LABEL_POD]: this.spec.name, [LABEL_CONTAINER]: container, ...this.context.owner };
  }
}
