// The kubernetes runtime: pods as real Kubernetes Pods with native sidecars, on the
// cluster of the current kubeconfig context (or --kubeconfig / --context), through
// @kubernetes/client-node. Each run gets a namespace of its own (or labelled objects in
// the one named), everything labelled with the run id and its owner; stopAll deletes
// them and waits until they are gone, and reapOrphans deletes what a dead harness on
// this host left. On the project's own cluster (`sidecar-bench cluster up`), the images
// a pod needs are imported from the local Docker engine first.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1Namespace, V1Node } from "@kubernetes/client-node";
import type { OpenLoopDriver } from "../../load/open-loop-driver.ts";
import type { PinningPlan } from "../../experiment/cpu-pinning.ts";
import type { GeneratorPlacement, PodRuntime, PodSpec, StartPodOptions, StartedPod } from "../pod-runtime.ts";
import { startInClusterGenerator } from "./in-cluster-generator.ts";
import { ownerAlive } from "../local/run-labels.ts";
import { dockerImageId, syncImages } from "../../cluster/cluster-images.ts";
import { PORTS, type ClusterLayout } from "../../cluster/cluster-layout.ts";
import { KubeConnection, firstLine, type KubernetesTarget } from "./kube-connection.ts";
import { KubeletStats } from "./kubelet-stats.ts";
import { LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_RUN_ID, LABEL_RUN_NAMESPACE, labelValue, ownerIdentity, runLabels, runNamespace, type OwnerIdentity } from "./kube-names.ts";
import { KubernetesPod, type PodAccess, type ResolvedImage } from "./kubernetes-pod.ts";
import { NamespaceWatch } from "./namespace-watch.ts";
import { ContainerdTaskEvents } from "./containerd-task-events.ts";
import { findNodeAgent, isLocalAddress, type NodeAgent } from "./node-agent.ts";
import { PortForwards } from "./port-forwards.ts";
import { LOADGEN_IMAGE, NET_INIT_IMAGE, resolveImage } from "./project-images.ts";

const NAMESPACE_GONE_TIMEOUT_MS = 60_000;
const SERVICE_ACCOUNT_WAIT_MS = 5_000;
/** One whole CPU: what the kubelet's static CPU manager hands a Guaranteed pod for itself. */
const EXCLUSIVE_GENERATOR_CPUS = 1;
/** containerd's own client (Debian's containerd package), for the runtime's event stream. */
const CTR = "/usr/bin/ctr";

export interface KubernetesRuntimeOptions {
  /** Run files (rendered configs, container logs) go to <workDir>/<pod>/. */
  workDir: string;
  projectRoot: string;
  target: KubernetesTarget;
  /** How the harness reaches pods (default auto: their addresses when it runs on the node, else port-forward). */
  podAccess?: "auto" | PodAccess;
  /** The project's own cluster on this machine, if any: its images are imported on demand, its CRI socket used. */
  localCluster: ClusterLayout | null;
  /** Cap of each container's log file under workDir (the kubelet caps its own). */
  containerLogMaxBytes?: number;
  /**
   * Whether the harness acts from the node its pods run on (default: when every node's
   * address is this machine's). false makes it work as from elsewhere — port-forward,
   * signals by exec, the kubelet's stats — which is how its tests cover a remote cluster.
   */
  onNode?: boolean;
}

interface Connected {
  connection: KubeConnection;
  serverVersion: string;
  nodes: V1Node[];
  access: PodAccess;
  nodeAgent: NodeAgent | null;
  taskEvents: ContainerdTaskEvents | null;
  /** The API server is the project's own cluster's. */
  ownCluster: boolean;
}

export interface KubernetesDescription {
  context: string;
  server: string;
  serverVersion: string;
  nodes: Array<{ name: string; kubeletVersion: string; containerRuntime: string }>;
  podAccess: string;
  signals: string;
  accounting: string;
}

export class KubernetesRuntime implements PodRuntime {
  private connecting: Promise<Connected> | null = null;
  private readonly owner: OwnerIdentity = ownerIdentity();
  private readonly pods = new Set<KubernetesPod>();
  private readonly namespaces = new Map<string, Promise<{ namespace: string; watch: NamespaceWatch; created: boolean }>>();
  private portForwards: PortForwards | null = null;
  private readonly generators = new Set<OpenLoopDriver>();
  /** Whole CPUs the generator pod asks for as a Guaranteed pod (pinningPlan "split", the default), or null. */
  private generatorCpus: number | null = EXCLUSIVE_GENERATOR_CPUS;
  private readonly images = new Set<string>();

  constructor(private readonly options: KubernetesRuntimeOptions) {}

  getName(): string {
    return "kubernetes";
  }

  /** The cluster, its version and nodes, and how this runtime reaches, signals and accounts its pods. */
  async describe(): Promise<KubernetesDescription> {
    const c = await this.connect();
    return {
      context: c.connection.contextName,
      server: c.connection.server,
      serverVersion: c.serverVersion,
      nodes: c.nodes.map((n) => ({ name: n.metadata?.name ?? "?", kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? "?", containerRuntime: n.status?.nodeInfo?.containerRuntimeVersion ?? "?" })),
      podAccess: c.access === "pod-ip" ? "pod addresses, from the node" : "port-forward through the API server",
      signals: c.nodeAgent ? "kill(2) from the node on the container's process (found through CRI: crictl inspect)" : "kill by exec inside the pod (one PID namespace), on the container's first process",
      accounting: c.nodeAgent ? c.nodeAgent.accounting() : "kubelet stats summary",
    };
  }

  async startPod(spec: PodSpec, options: StartPodOptions = {}): Promise<StartedPod> {
    const connected = await this.connect();
    const { namespace, watch } = await this.namespaceFor(spec.runId);
    const images: Record<string, ResolvedImage> = {};
    for (const container of spec.containers) images[container.name] = resolveImage(container.image, container.name);
    const netInitImage = resolveImage(NET_INIT_IMAGE, "sidecar-bench-net");
    for (const image of [...Object.values(images), netInitImage]) this.images.add(image.image);
    if (connected.ownCluster && this.options.localCluster) {
      // What the local engine has goes to the node; what it lacks, the kubelet reports (ErrImageNeverPull, with how to load it).
      const local = [...new Set([...Object.values(images), netInitImage].filter((i) => i.project).map((i) => i.image))].filter((image) => dockerImageId(image) !== null);
      await syncImages(this.options.localCluster, local);
    }
    this.portForwards ??= new PortForwards(connected.connection);
    const pod: KubernetesPod = new KubernetesPod(spec, {
      connection: connected.connection,
      namespace,
      watch,
      podDir: join(this.options.workDir, spec.name),
      projectRoot: this.options.projectRoot,
      labels: runLabels(spec.runId, this.owner),
      images,
      netInitImage,
      access: connected.access,
      nodeAgent: connected.nodeAgent,
      taskEvents: connected.taskEvents,
      kubeletStats: new KubeletStats(connected.connection),
      portForwards: this.portForwards,
      ...(this.options.containerLogMaxBytes ? { containerLogMaxBytes: this.options.containerLogMaxBytes } : {}),
      onStopped: () => this.pods.delete(pod),
    });
    this.pods.add(pod);
    await pod.start(options);
    return pod;
  }

  /**
   * The benchmark's generator is a pod, so the harness pins nothing. In "split" mode the
   * generator pod asks for one whole CPU as a Guaranteed pod: where the node's kubelet
   * runs the static CPU manager (the project's cluster does) that CPU is the generator's
   * alone and the pods under test run on the others; elsewhere it is a CFS share. The
   * description says which the node does (its kubelet's configz).
   */
  async pinningPlan(mode: "split" | "none"): Promise<PinningPlan> {
    this.generatorCpus = mode === "split" ? EXCLUSIVE_GENERATOR_CPUS : null;
    if (mode === "none") return { mode, loadGeneratorCpus: [], podCpus: undefined, description: "no pinning (requested): the load generator pod and the pods under test share the node's CPUs" };
    const { connection, nodes } = await this.connect();
    const policies = await Promise.all(nodes.map((node) => kubeletCpuManagerPolicy(connection, node.metadata?.name ?? "")));
    const exclusive = policies.length > 0 && policies.every((policy) => policy === "static");
    return {
      mode,
      loadGeneratorCpus: [],
      podCpus: undefined,
      description: exclusive
        ? "the load generator pod holds 1 CPU of its own (Guaranteed QoS, the kubelet's static CPU manager); the pods under test share the node's other CPUs"
        : `the load generator pod is Guaranteed 1 CPU, but the node's kubelet does not pin (CPU manager policy ${[...new Set(policies)].join(", ") || "unknown"}): it and the pods under test share the node's CPUs`,
    };
  }

  /** A generator pod in the run's namespace, placed relative to its pods under test (in-cluster-generator.ts). */
  async openLoopDriver(runId: string, options: { placement: GeneratorPlacement; signal?: AbortSignal }): Promise<OpenLoopDriver> {
    const connected = await this.connect();
    const { namespace } = await this.namespaceFor(runId);
    const image = resolveImage(LOADGEN_IMAGE, "loadgen");
    if (connected.ownCluster && this.options.localCluster) await syncImages(this.options.localCluster, [image.image]);
    const driver = await startInClusterGenerator(
      { connection: connected.connection, namespace, runId, labels: runLabels(runId, this.owner), image, placement: options.placement, exclusiveCpus: this.generatorCpus },
      options.signal,
    );
    this.generators.add(driver);
    return { ...driver, close: async () => (this.generators.delete(driver), driver.close()) };
  }

  /** Images the run's pods ran, as the cluster names them (for the fingerprint). */
  imagesUsed(): string[] {
    return [...this.images];
  }

  /** Stops every pod, then deletes the run's namespaces (or labelled objects) and waits until they are gone. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.generators].map((generator) => generator.close().catch(() => undefined)));
    this.generators.clear();
    await Promise.all([...this.pods].map((pod) => pod.stop()));
    const connected = this.connecting ? await this.connecting.catch(() => null) : null;
    if (!connected) return;
    for (const [runId, entry] of this.namespaces) {
      const { namespace, watch, created } = await entry.catch(() => ({ namespace: "", watch: null, created: false }));
      watch?.close();
      if (!namespace) continue;
      if (created) await deleteNamespace(connected.connection, namespace);
      else await deleteLabelled(connected.connection, namespace, `${LABEL_RUN_ID}=${labelValue(runId)}`);
    }
    this.namespaces.clear();
    connected.taskEvents?.stop();
    this.connecting = null;
  }

  /** Namespaces (and in a shared namespace, pods and ConfigMaps) of runs whose harness on this host has died. */
  async reapOrphans(): Promise<string[]> {
    const { connection } = await this.connect();
    const reaped: string[] = [];
    const dead = (labels: Record<string, string> | undefined) =>
      labels?.[LABEL_OWNER_HOST] === this.owner.host && labels[LABEL_OWNER_PID] !== undefined && !ownerAlive(`${labels[LABEL_OWNER_PID]}:${labels[LABEL_OWNER_START] ?? "0"}`);
    const namespaces = await connection.core.listNamespace({ labelSelector: LABEL_RUN_ID });
    for (const ns of namespaces.items.filter((n) => dead(n.metadata?.labels) && n.status?.phase !== "Terminating")) {
      await connection.core.deleteNamespace({ name: ns.metadata!.name! }).catch(() => undefined);
      reaped.push(`namespace ${ns.metadata!.name} (run ${ns.metadata?.labels?.[LABEL_RUN_ID]})`);
    }
    if (this.options.target.namespace) {
      const namespace = this.options.target.namespace;
      const pods = await connection.core.listNamespacedPod({ namespace, labelSelector: LABEL_RUN_ID });
      for (const pod of pods.items.filter((p) => dead(p.metadata?.labels))) {
        await connection.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
        reaped.push(`pod ${namespace}/${pod.metadata!.name} (run ${pod.metadata?.labels?.[LABEL_RUN_ID]})`);
      }
      const maps = await connection.core.listNamespacedConfigMap({ namespace, labelSelector: LABEL_RUN_ID });
      for (const map of maps.items.filter((m) => dead(m.metadata?.labels))) {
        await connection.core.deleteNamespacedConfigMap({ name: map.metadata!.name!, namespace }).catch(() => undefined);
        reaped.push(`configmap ${namespace}/${map.metadata!.name}`);
      }
    }
    return reaped;
  }

  private connect(): Promise<Connected> {
    this.connecting ??= this.connectNow().catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  private async connectNow(): Promise<Connected> {
    const connection = KubeConnection.load(this.options.target);
    const serverVersion = await connection.serverVersion();
    const nodes = (await connection.core.listNode()).items;
    const layout = this.options.localCluster;
    const ownCluster = layout !== null && connection.server === `https://127.0.0.1:${PORTS.apiserver}`;
    const onNode = this.options.onNode ?? (nodes.length > 0 && nodes.every((n) => (n.status?.addresses ?? []).some((a) => a.type === "InternalIP" && isLocalAddress(a.address))));
    const candidates = [
      ...(layout ? [{ crictl: join(layout.binDir, "crictl"), socket: layout.containerdSocket }] : []),
      ...(layout ? [{ crictl: join(layout.binDir, "crictl"), socket: "/run/containerd/containerd.sock" }] : []),
    ];
    const agent = onNode ? findNodeAgent(candidates) : null;
    const nodeAgent = agent?.agent ?? null;
    const taskEvents = agent && existsSync(CTR) ? new ContainerdTaskEvents(CTR, agent.socket) : null;
    taskEvents?.start();
    const requested = this.options.podAccess ?? "auto";
    const access: PodAccess = requested === "auto" ? (onNode ? "pod-ip" : "port-forward") : requested;
    return { connection, serverVersion, nodes, access, nodeAgent, taskEvents, ownCluster };
  }

  private namespaceFor(runId: string): Promise<{ namespace: string; watch: NamespaceWatch; created: boolean }> {
    let entry = this.namespaces.get(runId);
    if (!entry) {
      entry = this.prepareNamespace(runId);
      this.namespaces.set(runId, entry);
    }
    return entry;
  }

  private async prepareNamespace(runId: string): Promise<{ namespace: string; watch: NamespaceWatch; created: boolean }> {
    const { connection } = await this.connect();
    const given = this.options.target.namespace;
    const namespace = given ?? runNamespace(runId);
    if (!given) {
      const body: V1Namespace = {
        metadata: {
          name: namespace,
          labels: {
            ...runLabels(runId, this.owner),
            [LABEL_RUN_NAMESPACE]: "true",
            // The NAT init container is privileged (pod-manifest.ts).
            "pod-security.kubernetes.io/enforce": "privileged",
          },
        },
      };
      try {
        await connection.core.createNamespace({ body });
      } catch (error) {
        throw new Error(`cannot create namespace ${namespace}: ${firstLine(error)}`);
      }
    }
    const watch = new NamespaceWatch(connection, namespace, `${LABEL_RUN_ID}=${labelValue(runId)}`);
    try {
      if (!given) await ensureDefaultServiceAccount(connection, namespace);
      await watch.open();
    } catch (error) {
      // stopAll deletes only namespaces whose preparation succeeded: one made for nothing goes now.
      watch.close();
      if (!given) await connection.core.deleteNamespace({ name: namespace }).catch(() => undefined);
      throw error;
    }
    return { namespace, watch, created: !given };
  }
}

/** The node's kubelet's CPU manager policy ("none", "static"), from its configz through the API server; null when it will not say. */
async function kubeletCpuManagerPolicy(connection: KubeConnection, node: string): Promise<string | null> {
  try {
    const answer: unknown = await connection.core.connectGetNodeProxyWithPath({ name: node, path: "configz" });
    const config = (typeof answer === "string" ? JSON.parse(answer) : answer) as { kubeletconfig?: { cpuManagerPolicy?: string } };
    return config.kubeletconfig?.cpuManagerPolicy ?? "none";
  } catch {
    return null;
  }
}

/** Pods need the namespace's "default" ServiceAccount; the controller-manager makes it within a moment (or, on clusters without that controller, this does). */
async function ensureDefaultServiceAccount(connection: KubeConnection, namespace: string): Promise<void> {
  const deadline = performance.now() + SERVICE_ACCOUNT_WAIT_MS;
  while (performance.now() < deadline) {
    const found = await connection.core.readNamespacedServiceAccount({ name: "default", namespace }).then(() => true, () => false);
    if (found) return;
    await sleep(100);
  }
  await connection.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "default" } } }).catch(() => undefined);
}

async function deleteNamespace(connection: KubeConnection, name: string): Promise<void> {
  await connection.core.deleteNamespace({ name }).catch(() => undefined);
  const deadline = performance.now() + NAMESPACE_GONE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const gone = await connection.core.readNamespace({ name }).then(() => false, (error: { code?: number }) => error.code === 404);
    if (gone) return;
    await sleep(250);
  }
}

async function deleteLabelled(connection: KubeConnection, namespace: string, labelSelector: string): Promise<void> {
  await connection.core.deleteCollectionNamespacedPod({ namespace, labelSelector }).catch(() => undefined);
  await connection.core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector }).catch(() => undefined);
}
