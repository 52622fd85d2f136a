// A started local pod: the shared lifecycle (pod-lifecycle.ts: Kubernetes native sidecars'
// start order, probes, restarts, stop order and events) over local processes. What is
// local: each container is a process group (process-container.ts), in its own cgroup
// where cgroups are writable; its ports are free ports allocated for the pod on
// 127.0.0.1; exec probes run on this host, with the pod's PATH.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerLogUsage, ContainerSpec, ContainerStats, ContainerStatus, PodEvent, PodSpec, StartedPod, StopOptions, StoppedPod } from "../pod-runtime.ts";
import { PodLifecycle } from "../pod-lifecycle.ts";
import { runProbe } from "../probe.ts";
import { renderProbeAction, renderTemplate } from "../template.ts";
import { type CgroupLayout, ContainerCgroup, CGROUP_PARENT } from "./cgroup.ts";
import { allocatePodPorts } from "./port-allocator.ts";
import { ProcessContainer } from "./process-container.ts";
import { createVolumeDirs, mountedVolumes, removeVolumeDirs } from "../pod-volumes.ts";
import { sampleProcessTree } from "./proc-stats.ts";
import { LABEL_CONTAINER, LABEL_OWNER, LABEL_POD, LABEL_RUN_ID } from "./run-labels.ts";

const HOST = "127.0.0.1";

export interface LocalPodContext {
  podDir: string;
  path: string;
  owner: string;
  cgroupLayout: CgroupLayout | null;
  /** Cap of each container's log file. */
  logMaxBytes: number;
  onStopped: () => void;
}

export class LocalPod implements StartedPod {
  private readonly lifecycle: PodLifecycle<ProcessContainer>;
  private ports: Record<string, Record<string, number>> = {};
  /** Each container's template renderer (for its exec probes). */
  private readonly renderers = new Map<string, (text: string, origin: string) => string>();
  /** Host paths of the pod's volumes, by name (created at start). */
  private volumes: Record<string, string> = {};
  /** Each container's cgroup, or null where cgroups are off. */
  private readonly cgroups = new Map<ProcessContainer, ContainerCgroup | null>();

  constructor(
    readonly spec: PodSpec,
    private readonly context: LocalPodContext,
  ) {
    this.lifecycle = new PodLifecycle(spec, {
      exitNoun: "process",
      start: (proc, name) => proc.start((exit) => this.lifecycle.exited(name, exit)),
      kill: (proc) => proc.killAll(),
      probe: (_proc, name, action, timeoutMs) => runProbe(renderProbeAction(action, this.renderers.get(name)!), this.probeTarget(name), timeoutMs),
    });
  }

  /** Allocates the pod's ports, then starts it (pod-lifecycle.ts); `onCreated` runs once ports resolve and containers exist. */
  async start(readyTimeoutMs?: number, onCreated?: () => void): Promise<void> {
    this.ports = await allocatePodPorts(this.spec.containers, HOST);
    this.volumes = createVolumeDirs(this.context.podDir, this.spec);
    await this.lifecycle.start((spec) => this.createContainer(spec), readyTimeoutMs, onCreated);
  }

  url(container: string, port: string): string {
    return `http://${HOST}:${this.port(container, port)}`;
  }

  volumePath(name: string): string | undefined {
    return this.volumes[name];
  }

  port(container: string, port: string): number {
    const value = this.ports[container]?.[port];
    if (value === undefined) throw new Error(`pod ${this.spec.name} has no port "${port}" on container "${container}"`);
    return value;
  }

  status(): ContainerStatus[] {
    return this.lifecycle.status();
  }

  async stats(container: string): Promise<ContainerStats> {
    const proc = this.lifecycle.container(container);
    const cgroup = this.cgroups.get(proc);
    const sampledAtMs = Date.now();
    if (cgroup) {
      const sample = cgroup.sample();
      return { ...sample, source: cgroup.version, sampledAtMs };
    }
    const pid = proc.pid;
    const sample = pid !== undefined && proc.running ? sampleProcessTree(pid) : { cpuUsageUs: 0, memoryBytes: 0 };
    return { ...sample, source: "proc", sampledAtMs };
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

  /** A new process for the container, through its startup probe (pod-lifecycle.ts). */
  restart(container: string): Promise<void> {
    return this.lifecycle.restart(container);
  }

  stop(options: StopOptions = {}): Promise<StoppedPod> {
    return this.lifecycle.stop(() => this.release(), options.graceMs);
  }

  /** Synchronous last resort for process exit: SIGKILL everything, no waiting. */
  killAllNow(): void {
    for (const proc of this.lifecycle.containers()) proc.killAll();
  }

  /** After the lifecycle's stop: what is left of the processes, their logs and cgroups. */
  private async release(): Promise<void> {
    for (const proc of this.lifecycle.containers()) {
      proc.killAll(); // leftovers of a process group that outlived its leader
      proc.log.close();
      const cgroup = this.cgroups.get(proc);
      if (cgroup) await removeWhenEmpty(cgroup);
    }
    removeVolumeDirs(this.volumes);
    this.context.onStopped();
  }

  private createContainer(spec: ContainerSpec): ProcessContainer {
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
        volumes: mountedVolumes(spec, (name) => this.volumes[name]!),
        origin: `container "${spec.name}" ${origin}`,
      });
    this.renderers.set(spec.name, render);
    const command = spec.command.map((arg, i) => render(arg, `command[${i}]`));
    const env: NodeJS.ProcessEnv = { ...harnessEnvironment(), PATH: this.context.path };
    for (const [key, value] of Object.entries(spec.env ?? {})) env[key] = render(value, `env.${key}`);
    Object.assign(env, {
      [LABEL_RUN_ID]: this.spec.runId,
      [LABEL_OWNER]: this.context.owner,
      [LABEL_POD]: this.spec.name,
      [LABEL_CONTAINER]: spec.name,
    });
    const proc = new ProcessContainer({
      name: spec.name,
      command,
      env,
      cwd: spec.baseDir,
      cgroup,
      cpuSet: this.spec.cpuSet,
      logFile: join(this.context.podDir, `${spec.name}.log`),
      logMaxBytes: this.context.logMaxBytes,
    });
    this.cgroups.set(proc, cgroup);
    return proc;
  }

  private probeTarget(container: string) {
    return { host: HOST, port: (name: string) => this.port(container, name), env: { ...harnessEnvironment(), PATH: this.context.path } };
  }
}

/**
 * The harness's environment as a container inherits it (a local process's PATH, locale,
 * HOME), without the certification's own variables: they carry the seed of the secrets
 * the checks put in the store, which a sidecar under test must not see.
 */
function harnessEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SIDECAR_BENCH_CERTIFY_")));
}

async function removeWhenEmpty(cgroup: ContainerCgroup): Promise<void> {
  for (let attempt = 0; attempt < 40 && !cgroup.remove(); attempt++) await sleep(25);
}
