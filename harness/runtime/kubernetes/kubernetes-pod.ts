// A started pod on a Kubernetes cluster. Unlike the local and docker runtimes, nothing
// here orders, probes or restarts containers: the kubelet does, and this pod reports what
// the API says it did (pod-status.ts, fed by the run's watch), so the lifecycle checks
// judge the kubelet itself. Logs come from the API; the kubelet's "Killing" events mark
// each container's SIGTERM. Signals, pids and resource counters come from the node
// (node-agent.ts) when the harness runs on it, else from exec and the kubelet's stats.
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join, relative, isAbsolute } from "node:path";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import { admitPodAddress } from "../../load/target-guard.ts";
import { ContainerLog } from "../logs/container-log.ts";
import type { ContainerLogUsage, ContainerSpec, ContainerStats, ContainerStatus, PodEvent, PodSpec, ProbeSpec, StartedPod, StopOptions, StoppedPod } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { renderProbeAction, renderTemplate } from "../template.ts";
import { LABEL_CONTAINER as ENV_CONTAINER, LABEL_POD as ENV_POD, LABEL_RUN_ID as ENV_RUN_ID } from "../local/run-labels.ts";
import { ContainerLogFollower } from "./container-log-follower.ts";
import type { ContainerdTaskEvents } from "./containerd-task-events.ts";
import { firstLine, type KubeConnection } from "./kube-connection.ts";
import { dnsLabel } from "./kube-names.ts";
import type { KubeletStats } from "./kubelet-stats.ts";
import type { NamespaceWatch } from "./namespace-watch.ts";
import type { NodeAgent } from "./node-agent.ts";
import { CONFIG_MOUNT_PATH, podManifests, podVolumeMountPath, probeSeconds, type ContainerRendering } from "./pod-manifest.ts";
import { mountedVolumes } from "../pod-volumes.ts";
import { PodStatusTracker } from "./pod-status.ts";
import type { PortForwards } from "./port-forwards.ts";

/** The containers' address for each other inside the pod (they listen there; see pod-manifest.ts). */
const POD_LOCALHOST = "127.0.0.1";
/** Where the project's images hold its source tree (images/cluster-source). */
export const IMAGE_SOURCE_ROOT = "/opt/sidecar-bench";
const READY_POLL_MS = 20;
const START_ERROR_LOG_LINES = 20;
const EXEC_TIMEOUT_MS = 10_000;
/**
 * A pod the scheduler keeps reporting unschedulable (no node fits its requests, its
 * placement) is given up after this, whatever the start-up bound: the scheduler retries,
 * but a cluster that does not change while the run waits will not place it.
 */
export const UNSCHEDULABLE_GIVE_UP_MS = 10_000;
/** The kubelet's generic PLEG relists containers every second: a (re)started one is noticed up to this late. */
const KUBELET_RELIST_MS = 1_000;
/** From the kubelet's probe result to the watch event (status manager, API server, watch). */
const STATUS_REPORT_ALLOWANCE_MS = 250;
/** Beyond the grace period: the kubelet's own stop work and the API's deletion. */
const STOP_MARGIN_MS = 30_000;
/** How often a stop asks the API whether the pod is gone, beside the watch. */
const POD_GONE_ASK_MS = 1_000;

export interface ResolvedImage {
  image: string;
  imagePullPolicy: ContainerRendering["imagePullPolicy"];
  /** A project image, whose source tree is at IMAGE_SOURCE_ROOT. */
  project: boolean;
}

/** How the harness reaches pods: their addresses (it runs on the node) or forwarded ports through the API. */
export type PodAccess = "pod-ip" | "port-forward";

export interface KubernetesPodContext {
  connection: KubeConnection;
  namespace: string;
  watch: NamespaceWatch;
  /** Local folder for rendered configs and container logs. */
  podDir: string;
  projectRoot: string;
  labels: Record<string, string>;
  images: Record<string, ResolvedImage>;
  netInitImage: ResolvedImage;
  access: PodAccess;
  nodeAgent: NodeAgent | null;
  /** Exact start and exit times from the node's container runtime, when the harness runs on the node. */
  taskEvents: ContainerdTaskEvents | null;
  kubeletStats: KubeletStats;
  portForwards: PortForwards;
  containerLogMaxBytes?: number;
  onStopped(): void;
}

interface Running {
  containerId: string;
  pid: number | null;
}

export class KubernetesPod implements StartedPod {
  readonly podName: string;
  private readonly containerNames: Record<string, string>;
  private readonly specByKubernetesName = new Map<string, ContainerSpec>();
  private readonly tracker: PodStatusTracker;
  private readonly logs_ = new Map<string, ContainerLogFollower>();
  private readonly running = new Map<string, Running>();
  private readonly warnings: string[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private podIP: string | null = null;
  private readonly createdAtMs = performance.now();
  /** Sidecars the kubelet announced it is stopping ("Killing"), until their SIGTERM is known (see onEvent). */
  private readonly pendingSidecarTerms = new Map<string, number>();
  private nodeName: string | null = null;
  private withdrawAddress: (() => void) | null = null;
  private deleted = false;
  private stopping: Promise<StoppedPod> | null = null;
  private stopBeganAtMs: number | null = null;
  /** The grace of the stop under way when its caller chose one (StopOptions.graceMs). */
  private stopGraceOverrideMs: number | null = null;
  private onCreated: ((pod: StartedPod) => void) | undefined;
  /** Set once the pod exists and, with port-forward access, its ports are forwarded. */
  private reachable = false;
  /** When the scheduler was first seen reporting the pod unschedulable (see waitReady). */
  private unschedulableSinceMs: number | null = null;
  /** What onCreated threw: it fails the start. */
  private createdCallbackError: Error | null = null;

  constructor(
    readonly spec: PodSpec,
    private readonly context: KubernetesPodContext,
  ) {
    this.podName = dnsLabel(spec.name);
    this.containerNames = Object.fromEntries(spec.containers.map((c) => [c.name, dnsLabel(c.name)]));
    for (const c of spec.containers) this.specByKubernetesName.set(this.containerNames[c.name]!, c);
    this.tracker = new PodStatusTracker(
      spec.containers.map((c) => ({ name: c.name, kubernetesName: this.containerNames[c.name]!, kind: c.kind })),
      this.createdAtMs,
      context.taskEvents ?? undefined,
    );
    mkdirSync(context.podDir, { recursive: true });
    for (const c of spec.containers) {
      const log = new ContainerLog(join(context.podDir, `${c.name}.log`), context.containerLogMaxBytes);
      this.logs_.set(c.name, new ContainerLogFollower(context.connection, context.namespace, this.podName, this.containerNames[c.name]!, log));
    }
  }

  /** Creates the pod and waits until the kubelet reports it Ready; on failure deletes it and throws a PodStartError. */
  async start(options: { readyTimeoutMs?: number; onCreated?: (pod: StartedPod) => void } = {}): Promise<void> {
    this.onCreated = options.onCreated;
    const { rendering, configFiles } = this.render();
    const { pod, configMap } = podManifests({
      spec: this.spec,
      podName: this.podName,
      namespace: this.context.namespace,
      containerNames: this.containerNames,
      rendering,
      configFiles,
      labels: this.context.labels,
      netInitImage: this.context.netInitImage,
    });
    // Subscribed before the pod exists, so no change goes unseen.
    this.unsubscribe.push(this.context.watch.pods.subscribe(this.podName, (type, object, atMs) => this.onPod(type, object, atMs)));
    this.unsubscribe.push(this.context.watch.events.subscribe(this.podName, (_type, event, atMs) => this.onEvent(event, atMs)));
    await this.context.watch.open();
    const { core } = this.context.connection;
    try {
      if (configMap) await core.createNamespacedConfigMap({ namespace: this.context.namespace, body: configMap });
      await core.createNamespacedPod({ namespace: this.context.namespace, body: pod });
      if (this.context.access === "port-forward") {
        const declared = [...new Set(this.spec.containers.flatMap((c) => Object.values(c.ports)))];
        await Promise.all(declared.map((port) => this.context.portForwards.open(this.context.namespace, this.podName, port)));
      }
      this.reachable = true;
      this.announceCreated();
    } catch (error) {
      await this.stop();
      throw new PodStartError(`pod ${this.spec.name}: the API refused it: ${firstLine(error)}`, this.spec.containers[0]!.name, []);
    }
    const timeoutMs = options.readyTimeoutMs ?? Math.max(...this.spec.containers.map((c) => c.startupTimeoutMs));
    try {
      await this.waitReady(timeoutMs);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  url(container: string, port: string): string {
    return `http://${this.host()}:${this.port(container, port)}`;
  }

  /** Pod addresses take the declared number; forwarded ports get a local number each. */
  port(container: string, port: string): number {
    const declared = this.spec.containers.find((c) => c.name === container)?.ports[port];
    if (declared === undefined) throw new Error(`pod ${this.spec.name} has no port "${port}" on container "${container}"`);
    if (this.context.access === "pod-ip") return declared;
    return this.context.portForwards.localPort(this.context.namespace, this.podName, declared);
  }

  /** The pod's address on the cluster network (what an in-cluster client dials). */
  address(): string {
    if (this.podIP === null) throw new Error(`pod ${this.spec.name} has no address yet`);
    return this.podIP;
  }

  /**
   * On the node, through the root of a running container that mounts the volume
   * (/proc/<pid>/root/<mount path>): the emptyDir itself, wherever the kubelet keeps it.
   */
  volumePath(name: string): string | undefined {
    if (!this.context.nodeAgent) return undefined;
    for (const container of this.spec.containers) {
      const pid = this.running.get(container.name)?.pid;
      if (pid && container.volumes?.includes(name)) return `/proc/${pid}/root${podVolumeMountPath(name)}`;
    }
    return undefined;
  }

  status(): ContainerStatus[] {
    return this.tracker.statuses().map((s) => {
      const pid = this.running.get(s.name)?.pid;
      return pid ? { ...s, pid } : s;
    });
  }

  async stats(container: string): Promise<ContainerStats> {
    const running = this.liveProcess(container);
    const agent = this.context.nodeAgent;
    if (agent && running) {
      const reader = agent.cgroupReader(running.pid);
      const counters = reader?.();
      if (counters) {
        return {
          cpuUsageUs: counters.cpuUsageUs,
          memoryBytes: counters.memoryBytes,
          source: agent.cgroupVersion() ?? "kubernetes",
          ...(counters.throttledPeriods !== undefined ? { throttledPeriods: counters.throttledPeriods, throttledUs: counters.throttledUs } : {}),
          // Ended instances as the kubelet reports them, plus kills inside the running one.
          oomKills: this.tracker.oomKillsOf(container) + counters.oomKills,
          sampledAtMs: Date.now(),
        };
      }
    }
    const sample = await this.context.kubeletStats.container(this.nodeName ?? "", this.context.namespace, this.podName, this.containerNames[container]!);
    return { ...sample, oomKills: this.tracker.oomKillsOf(container), source: "kubernetes", sampledAtMs: Date.now() };
  }

  /** The kubelet's relist period, then one startup and one readiness probe period (whole seconds), then the API's report. */
  readinessReportLagMs(container: string): number {
    const spec = this.spec.containers.find((c) => c.name === container);
    if (!spec) throw new Error(`pod ${this.spec.name} has no container "${container}"`);
    const period = (probe: ProbeSpec | undefined) => (probe ? probeSeconds(probe).periodSeconds * 1000 : 0);
    return KUBELET_RELIST_MS + period(spec.probes.startup) + period(spec.probes.readiness) + STATUS_REPORT_ALLOWANCE_MS;
  }

  logs(container: string, maxLines = 50): string[] {
    return this.follower(container).log.tail(maxLines);
  }

  logUsage(container: string): ContainerLogUsage | null {
    return this.follower(container).log.usage();
  }

  /**
   * From the node: kill(2) on the container's process (node-agent.ts), at once. Elsewhere:
   * `kill` run by exec inside the pod, which shares one PID namespace (pod-manifest.ts),
   * on the container's first process, found by the identity every container carries in its
   * environment — delivered a round trip later; a failure is noted in the container's log.
   */
  signal(container: string, sig: NodeJS.Signals): void {
    if (this.context.nodeAgent) {
      const known = this.running.get(container);
      if (!known?.pid) throw new Error(`pod ${this.spec.name}: container "${container}" has no running process to signal`);
      const running = this.liveProcess(container);
      // As on the other runtimes, an ended container is not signalled: its pid may already be another process's.
      if (!running) {
        this.follower(container).log.note(`${sig} not sent: the container has exited`);
        return;
      }
      try {
        process.kill(running.pid, sig);
        this.follower(container).log.note(`${sig} sent from the node to pid ${running.pid}`);
      } catch (error) {
        this.follower(container).log.note(`${sig} not sent to pid ${running.pid}: ${(error as Error).message}`);
      }
      return;
    }
    this.signalByExec(container, sig).then(
      (via) => this.follower(container).log.note(`${sig} sent by exec in container "${via}"`),
      (error: Error) => this.follower(container).log.note(`${sig} could not be sent: ${error.message}`),
    );
  }

  private async signalByExec(container: string, sig: NodeJS.Signals): Promise<string> {
    // Processes of the target (not this shell, nor its children) by their identity; the first is the container's own.
    const script = [
      'self=$$; found=""',
      'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = "$self" ] && continue',
      '  if tr "\\0" "\\n" < "$d/environ" 2>/dev/null | grep -qx "$2" && tr "\\0" "\\n" < "$d/environ" 2>/dev/null | grep -qx "$3"; then',
      '    [ "$(cut -d" " -f4 < "$d/stat" 2>/dev/null)" = "$self" ] || found="$found $p"; fi',
      "done",
      'first=$(for p in $found; do echo "$p"; done | sort -n | head -n 1)',
      '[ -n "$first" ] || { echo "no process of the container" >&2; exit 3; }',
      'kill -s "$1" "$first"',
    ].join("\n");
    const args = [sig.replace(/^SIG/, ""), `${ENV_POD}=${this.spec.name}`, `${ENV_CONTAINER}=${container}`];
    // Any container with a shell can do it (the pod shares one PID namespace); the target's own first.
    const order = [container, ...this.spec.containers.map((c) => c.name).filter((name) => name !== container)];
    const failures: string[] = [];
    for (const via of order) {
      const outcome = await execOnce(this.context.connection, this.context.namespace, this.podName, this.containerNames[via]!, ["sh", "-c", script, "sidecar-bench-signal", ...args]);
      if (outcome.ok) return via;
      failures.push(`${via}: ${outcome.detail}`);
    }
    throw new Error(`no container of pod ${this.spec.name} could run kill (${failures.join("; ")})`);
  }

  /**
   * SIGTERM (SIGKILL after the grace period) from the node; the kubelet restarts the
   * container and its startup probe decides when it is started again.
   */
  async restart(container: string): Promise<void> {
    const spec = this.spec.containers.find((c) => c.name === container);
    if (!spec) throw new Error(`pod ${this.spec.name} has no container "${container}"`);
    if (spec.kind === "main" && (this.spec.restartPolicy ?? "Never") !== "Always") {
      throw new Error(`pod ${this.spec.name}: Kubernetes restarts a main container only under restartPolicy Always (this pod's is ${this.spec.restartPolicy ?? "Never"})`);
    }
    const before = this.statusOf(container).restartCount;
    this.signal(container, "SIGTERM");
    const graceDeadline = performance.now() + this.spec.terminationGracePeriodMs;
    while (this.statusOf(container).restartCount === before && this.statusOf(container).state !== "exited") {
      if (performance.now() > graceDeadline) {
        this.signal(container, "SIGKILL");
        break;
      }
      await sleep(READY_POLL_MS);
    }
    const againWithinMs = this.spec.terminationGracePeriodMs + spec.startupTimeoutMs + STOP_MARGIN_MS;
    const deadline = performance.now() + againWithinMs;
    while (!(this.statusOf(container).restartCount > before && this.statusOf(container).started && this.processKnown(container))) {
      if (performance.now() > deadline) throw new Error(`pod ${this.spec.name}: the kubelet did not start "${container}" again within ${Math.round(againWithinMs / 1000)} s`);
      await sleep(READY_POLL_MS);
    }
  }

  events(): PodEvent[] {
    return this.tracker.events();
  }

  stop(options: StopOptions = {}): Promise<StoppedPod> {
    this.stopping ??= this.stopNow(options.graceMs);
    return this.stopping;
  }

  private async stopNow(graceMs: number | undefined): Promise<StoppedPod> {
    const began = performance.now();
    this.stopBeganAtMs = began;
    if (graceMs !== undefined) this.stopGraceOverrideMs = graceMs;
    const { core } = this.context.connection;
    const { namespace } = this.context;
    // The API counts grace in whole seconds, and 0 would delete without waiting for the kubelet.
    const grace = graceMs !== undefined ? { gracePeriodSeconds: Math.max(1, Math.ceil(graceMs / 1000)) } : {};
    await core.deleteNamespacedPod({ name: this.podName, namespace, ...grace }).catch((error: { code?: number }) => {
      // Never created (the API refused it), or already gone.
      if (error.code === 404) this.deleted = true;
    });
    const deadline = began + (this.stopGraceOverrideMs ?? this.spec.terminationGracePeriodMs) + STOP_MARGIN_MS;
    let nextAskAtMs = began + POD_GONE_ASK_MS;
    while (!this.deleted && performance.now() < deadline) {
      await sleep(READY_POLL_MS);
      // The watch may have missed the end (reconnecting): ask the API itself now and then.
      if (performance.now() >= nextAskAtMs) {
        const gone = await core.readNamespacedPod({ name: this.podName, namespace }).then(() => false, (error: { code?: number }) => error.code === 404);
        if (gone) this.deleted = true;
        nextAskAtMs = performance.now() + POD_GONE_ASK_MS;
      }
    }
    await core.deleteNamespacedConfigMap({ name: `${this.podName}-config`, namespace }).catch(() => undefined);
    this.withdrawAddress?.();
    this.context.portForwards.close(namespace, this.podName);
    this.unsubscribe.forEach((off) => off());
    await Promise.all([...this.logs_.values()].map((f) => f.close()));
    this.context.onStopped();
    const statuses = this.tracker.statuses();
    return {
      containers: statuses.map((s) => ({
        name: s.name,
        exitCode: s.exitCode ?? null,
        signal: s.exitSignal ?? null,
        killed: s.exitSignal === "SIGKILL" && this.events().some((e) => e.container === s.name && e.type === "sigterm"),
      })),
      stopDurationMs: performance.now() - began,
      events: this.events(),
    };
  }

  /** Every snapshot of the pod: statuses and events, logs of new instances, their processes, its address. */
  private onPod(type: "ADDED" | "MODIFIED" | "DELETED", pod: V1Pod, atMs: number): void {
    const added = this.tracker.observe(pod, atMs);
    if (this.stopBeganAtMs !== null) {
      for (const event of added.filter((e) => e.type === "exited")) {
        const exitedAtMs = this.createdAtMs + event.atMs;
        // Its SIGTERM came before it, whenever the harness learned of it.
        this.tracker.capLast(event.container, "sigterm", exitedAtMs);
        if (event.detail === "on signal SIGKILL") this.tracker.note(event.container, "sigkill", exitedAtMs, "still running at the end of the grace period");
        this.tracker.note(event.container, "stopped", exitedAtMs, event.detail);
      }
    }
    this.resolveSidecarTerms();
    this.nodeName ??= pod.spec?.nodeName ?? null;
    if (pod.status?.podIP && this.podIP === null) {
      this.podIP = pod.status.podIP;
      this.withdrawAddress = admitPodAddress(this.podIP);
      this.announceCreated();
    }
    for (const spec of this.spec.containers) {
      const id = this.tracker.containerId(spec.name);
      const state = this.tracker.statuses().find((s) => s.name === spec.name)!.state;
      if (id && state !== "waiting" && state !== "exited") {
        this.follower(spec.name).follow(id);
        if (this.running.get(spec.name)?.containerId !== id) this.learnProcess(spec.name, id);
      }
    }
    if (type === "DELETED") {
      this.deleted = true;
    }
  }

  /**
   * The kubelet announces a sidecar's stop ("Killing") at once, then waits its turn: the
   * sidecar gets SIGTERM once every main container and every sidecar started after it
   * has exited (or the grace period ran out). Its SIGTERM is placed there — at the last of
   * those exits, as timed by the node's runtime — and a sidecar that exits before its
   * turn gets none: it ended on its own.
   */
  private resolveSidecarTerms(): void {
    if (this.pendingSidecarTerms.size === 0) return;
    const events = this.tracker.events();
    const exitAt = (name: string) => {
      const exit = [...events].reverse().find((e) => e.container === name && e.type === "exited" && this.createdAtMs + e.atMs >= (this.stopBeganAtMs ?? 0) - 1);
      return exit ? this.createdAtMs + exit.atMs : undefined;
    };
    const order = this.spec.containers.map((c) => c.name);
    const graceEndsAtMs = (this.stopBeganAtMs ?? this.createdAtMs) + (this.stopGraceOverrideMs ?? this.spec.terminationGracePeriodMs);
    for (const [sidecar, killingAtMs] of this.pendingSidecarTerms) {
      const ownExit = exitAt(sidecar);
      const prerequisites = this.spec.containers.filter((c) => c.kind === "main" || order.indexOf(c.name) > order.indexOf(sidecar)).map((c) => c.name);
      const exits = prerequisites.map(exitAt);
      if (exits.every((t) => t !== undefined)) {
        const sentAtMs = Math.max(killingAtMs, ...(exits as number[]));
        if (ownExit === undefined || ownExit >= sentAtMs) this.tracker.note(sidecar, "sigterm", sentAtMs, "sent by the kubelet once the containers it outlives had exited");
        this.pendingSidecarTerms.delete(sidecar);
      } else if (performance.now() > graceEndsAtMs) {
        this.tracker.note(sidecar, "sigterm", graceEndsAtMs, "sent by the kubelet at the end of the grace period");
        this.pendingSidecarTerms.delete(sidecar);
      } else if (ownExit !== undefined) {
        this.pendingSidecarTerms.delete(sidecar);
      }
    }
  }

  /**
   * When the kubelet sent its "Killing" (a main's SIGTERM follows at once), as well as the
   * harness can tell: the event reaches it a watch round trip later, possibly after the
   * node's runtime already timed the container's exit, so the time is capped at that exit;
   * and a stop the harness asked for cannot have begun before its delete request.
   */
  private killingAnnouncedAtMs(container: string, seenAtMs: number): number {
    const id = this.tracker.containerId(container);
    const exitedAtMs = id ? this.context.taskEvents?.exitOf(id) : undefined;
    const atMs = Math.min(seenAtMs, exitedAtMs ?? Number.POSITIVE_INFINITY);
    return this.stopBeganAtMs === null ? atMs : Math.max(this.stopBeganAtMs, atMs);
  }

  /** onCreated, once: when the pod has an address and its ports are reachable from here. */
  private announceCreated(): void {
    if (this.podIP === null || !this.reachable || !this.onCreated) return;
    const callback = this.onCreated;
    this.onCreated = undefined;
    try {
      callback(this);
    } catch (error) {
      this.createdCallbackError = error as Error;
    }
  }

  /** Off the node there is no pid to learn (signals go by exec); on it, a container's process must be known before the pod counts as started. */
  private processKnown(container: string): boolean {
    return !this.context.nodeAgent || Boolean(this.running.get(container)?.pid);
  }

  /** The container's process while its current instance runs: once it has exited (as the node's runtime or the API says), its pid may be reused. */
  private liveProcess(container: string): { containerId: string; pid: number } | null {
    const running = this.running.get(container);
    if (!running?.pid) return null;
    if (this.context.taskEvents?.exitOf(running.containerId) !== undefined || this.statusOf(container).state === "exited") return null;
    return { containerId: running.containerId, pid: running.pid };
  }

  private learnProcess(container: string, containerId: string): void {
    const entry: Running = { containerId, pid: null };
    this.running.set(container, entry);
    this.context.nodeAgent
      ?.process(containerId)
      .then(({ pid }) => {
        if (this.running.get(container) === entry) entry.pid = pid;
      })
      .catch(() => undefined);
  }

  private onEvent(event: CoreV1Event, atMs: number): void {
    const fieldPath = event.involvedObject?.fieldPath ?? "";
    const kubernetesName = /\{([^}]+)\}/.exec(fieldPath)?.[1];
    const container = kubernetesName ? this.specByKubernetesName.get(kubernetesName)?.name : undefined;
    if (event.reason === "Killing" && container) {
      const announcedAtMs = this.killingAnnouncedAtMs(container, atMs);
      if (this.specByKubernetesName.get(kubernetesName!)?.kind === "main") this.tracker.note(container, "sigterm", announcedAtMs, event.message ?? undefined);
      else {
        this.pendingSidecarTerms.set(container, announcedAtMs);
        this.resolveSidecarTerms();
      }
    }
    if (event.type === "Warning") this.warnings.push(`${event.reason ?? "Warning"}: ${event.message ?? ""}`.trim());
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.tracker.isReady() || this.spec.containers.some((c) => !this.processKnown(c.name))) {
      if (this.createdCallbackError) throw this.createdCallbackError;
      const stuck = this.tracker.stuck()[0];
      if (stuck) throw await this.startError(stuck.name, `cannot start: ${stuck.reason}${stuck.message ? ` (${stuck.message})` : ""}${hintFor(stuck.reason)}`);
      const exited = this.tracker.statuses().find((s) => s.state === "exited");
      if (exited) throw await this.startError(exited.name, `exited ${exited.exitSignal ? `on signal ${exited.exitSignal}` : `with code ${exited.exitCode}`} before the pod became ready`);
      if (this.deleted) throw await this.startError(this.spec.containers[0]!.name, "was deleted before it became ready");
      const unschedulable = this.unschedulableFor(performance.now());
      if (unschedulable && unschedulable.forMs > UNSCHEDULABLE_GIVE_UP_MS) {
        throw await this.startError(this.spec.containers[0]!.name, `cannot start: the pod was not scheduled for ${Math.round(unschedulable.forMs / 1000)} s (${unschedulable.reason})`);
      }
      if (performance.now() > deadline) {
        const notReady = this.tracker.statuses().find((s) => !s.ready) ?? this.tracker.statuses()[0]!;
        const scheduled = this.nodeName ? "" : " (never scheduled)";
        throw await this.startError(notReady.name, `not ready within ${Math.round(timeoutMs)} ms${scheduled}: state ${notReady.state}, phase ${this.tracker.phase()}`);
      }
      await sleep(READY_POLL_MS);
    }
  }

  /** Since when the scheduler has reported the pod unschedulable, and why (its condition's message). */
  private unschedulableFor(nowMs: number): { forMs: number; reason: string } | null {
    const condition = this.tracker.lastSnapshot()?.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (condition?.status !== "False" || condition.reason !== "Unschedulable") {
      this.unschedulableSinceMs = null;
      return null;
    }
    this.unschedulableSinceMs ??= nowMs;
    return { forMs: nowMs - this.unschedulableSinceMs, reason: condition.message ?? condition.reason };
  }

  private async startError(container: string, what: string): Promise<PodStartError> {
    await sleep(300); // the log stream's last lines
    let lines = this.logs(container, START_ERROR_LOG_LINES);
    // A container that died at once may be gone before its log could be followed: ask the API once.
    if (lines.length === 0) lines = await this.readLogOnce(container);
    const warnings = [...new Set(this.warnings)].slice(-5);
    const shown = [
      warnings.length ? `\nevents of pod ${this.context.namespace}/${this.podName}:\n  ${warnings.join("\n  ")}` : "",
      lines.length ? `\nlast log lines of "${container}":\n  ${lines.join("\n  ")}` : "",
    ].join("");
    return new PodStartError(`pod ${this.spec.name}: container "${container}" ${what}${shown}`, container, lines);
  }

  /** The container's last lines as the kubelet kept them (its current or, after a restart, previous instance). */
  private async readLogOnce(container: string): Promise<string[]> {
    const { core } = this.context.connection;
    const request = { name: this.podName, namespace: this.context.namespace, container: this.containerNames[container]!, tailLines: START_ERROR_LOG_LINES };
    for (const previous of [false, true]) {
      const text = await core.readNamespacedPodLog({ ...request, previous }).catch(() => "");
      const lines = String(text).split("\n").filter(Boolean);
      if (lines.length > 0) return lines;
    }
    return [];
  }

  private host(): string {
    if (this.context.access === "port-forward") return "127.0.0.1";
    return this.address();
  }

  private statusOf(container: string): ContainerStatus {
    const status = this.tracker.statuses().find((s) => s.name === container);
    if (!status) throw new Error(`pod ${this.spec.name} has no container "${container}"`);
    return status;
  }

  private follower(container: string): ContainerLogFollower {
    const follower = this.logs_.get(container);
    if (!follower) throw new Error(`pod ${this.spec.name} has no container "${container}" (has: ${[...this.logs_.keys()].join(", ")})`);
    return follower;
  }

  /** Commands and env with templates rendered (declared ports, the pod's localhost), and the rendered files for the ConfigMap. */
  private render(): { rendering: Record<string, ContainerRendering>; configFiles: Record<string, string> } {
    const ports = Object.fromEntries(this.spec.containers.map((c) => [c.name, { ...c.ports }]));
    const configDir = join(this.context.podDir, "config");
    const rendering: Record<string, ContainerRendering> = {};
    for (const spec of this.spec.containers) {
      const render = (text: string, origin: string) =>
        renderTemplate(text, {
          container: spec.name,
          ports,
          host: POD_LOCALHOST,
          baseDir: spec.baseDir,
          outDir: configDir,
          mountedAt: CONFIG_MOUNT_PATH,
          volumes: mountedVolumes(spec, podVolumeMountPath),
          origin: `container "${spec.name}" ${origin}`,
        });
      const image = this.context.images[spec.name]!;
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(spec.env ?? {})) env[key] = render(value, `env.${key}`);
      Object.assign(env, { [ENV_RUN_ID]: this.spec.runId, [ENV_POD]: this.spec.name, [ENV_CONTAINER]: spec.name });
      const inProject = relative(this.context.projectRoot, spec.baseDir);
      const workingDir = image.project && !inProject.startsWith("..") && !isAbsolute(inProject) ? join(IMAGE_SOURCE_ROOT, inProject) : undefined;
      rendering[spec.name] = {
        command: spec.command.map((arg, i) => render(arg, `command[${i}]`)),
        env,
        image: image.image,
        imagePullPolicy: image.imagePullPolicy,
        ...(workingDir ? { workingDir } : {}),
        probeActions: {
          ...(spec.probes.startup ? { startup: renderProbeAction(spec.probes.startup.action, render) } : {}),
          ...(spec.probes.readiness ? { readiness: renderProbeAction(spec.probes.readiness.action, render) } : {}),
        },
      };
    }
    return { rendering, configFiles: readRendered(configDir) };
  }
}

function readRendered(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  try {
    for (const name of readdirSync(dir)) files[name] = readFileSync(join(dir, name), "utf8");
  } catch {
    // nothing rendered
  }
  return files;
}

/** Runs a command in a container through the API (exec), bounded in time; ok on exit status 0. */
async function execOnce(connection: KubeConnection, namespace: string, pod: string, container: string, command: string[]): Promise<{ ok: boolean; detail: string }> {
  const stderr = new PassThrough();
  let errors = "";
  stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve) => {
    let socket: { close(): void } | null = null;
    let settled = false;
    const settle = (outcome: { ok: boolean; detail: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    // A session that never answers is closed, not left open beside the run.
    const timer = setTimeout(() => {
      settle({ ok: false, detail: `no answer within ${EXEC_TIMEOUT_MS} ms` });
      socket?.close();
    }, EXEC_TIMEOUT_MS);
    connection.exec
      .exec(namespace, pod, container, command, null, stderr, null, false, (status) => {
        settle(status.status === "Success" ? { ok: true, detail: "" } : { ok: false, detail: (errors.trim() || status.message || "failed").split("\n")[0]! });
      })
      .then(
        (opened) => {
          socket = opened;
          if (settled) opened.close();
        },
        (error: unknown) => settle({ ok: false, detail: firstLine(error) }),
      );
  });
}

/** What to do about a container that cannot start, by the kubelet's reason. */
function hintFor(reason: string): string {
  if (reason === "ErrImageNeverPull" || reason === "ErrImagePull" || reason === "ImagePullBackOff") {
    return "; the node lacks the image: on the project's cluster `sidecar-bench cluster up` imports the project's images (or `ctr -n k8s.io images import`), on kind `kind load docker-image --name <cluster> <image>` (kind-config.yaml names it sidecar-bench)";
  }
  return "";
}
