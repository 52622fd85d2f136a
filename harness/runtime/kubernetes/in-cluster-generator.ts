// The benchmark's open-loop generator as a pod in the cluster, beside the pods under test:
// requests take the cluster's network path from one pod to another (no port-forward, whose
// own cost would swamp a sidecar's), scheduled and measured by the same code as the
// harness runs locally (harness/load/remote/loadgen-main.ts, bundled in the loadgen image).
// The harness drives it through one exec session for the whole run: rounds in on stdin,
// results out on stdout (remote-open-loop.ts). Placement: on the node of the pods under
// test (default) or on another one, as Istio's benchmarks place their client.
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1Pod } from "@kubernetes/client-node";
import { GENERATOR_NODE_FLAGS, type OpenLoopDriver } from "../../load/open-loop-driver.ts";
import { RemoteOpenLoop } from "../../load/remote/remote-open-loop.ts";
import type { GeneratorPlacement, StartedPod } from "../pod-runtime.ts";
import { firstLine, type KubeConnection } from "./kube-connection.ts";
import { LABEL_ROLE, LABEL_RUN_ID, dnsLabel, labelValue } from "./kube-names.ts";
import { KubernetesPod, UNSCHEDULABLE_GIVE_UP_MS, type ResolvedImage } from "./kubernetes-pod.ts";

const CONTAINER = "loadgen";
/** The generator's heap at 70 000 req/s (its measured ceiling) with room to spare. */
const GENERATOR_MEMORY = "512Mi";
const READY_TIMEOUT_MS = 120_000;
/** Under the same V8 flags as the local generator process (GENERATOR_NODE_FLAGS: why). */
const ENTRY = ["node", ...GENERATOR_NODE_FLAGS, "/opt/sidecar-bench/loadgen.mjs"];
/** The generator's last stderr lines kept for an error (its stream may run for the whole run). */
const STDERR_LINES_KEPT = 20;

export interface GeneratorOptions {
  connection: KubeConnection;
  namespace: string;
  runId: string;
  labels: Record<string, string>;
  image: ResolvedImage;
  placement: GeneratorPlacement;
  /**
   * Whole CPUs for a Guaranteed generator pod (requests = limits: the static CPU manager
   * gives it those CPUs alone), or null: half a core requested, no limit.
   */
  exclusiveCpus: number | null;
}

/** The generator pod: idle until the harness execs the generator in it. */
export function generatorPod(options: GeneratorOptions, name: string): V1Pod {
  const podsUnderTest = { matchLabels: { [LABEL_RUN_ID]: labelValue(options.runId), [LABEL_ROLE]: "pod-under-test" } };
  const term = { labelSelector: podsUnderTest, topologyKey: "kubernetes.io/hostname" };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: options.namespace, labels: { ...options.labels, [LABEL_ROLE]: "load-generator" } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      dnsPolicy: "Default",
      terminationGracePeriodSeconds: 1,
      affinity: options.placement === "same-node" ? { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } : { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } },
      containers: [
        {
          name: CONTAINER,
          image: options.image.image,
          imagePullPolicy: options.image.imagePullPolicy,
          // Idle until exec'd; ends at once on SIGTERM.
          command: ["node", "-e", "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30)"],
          resources:
            options.exclusiveCpus === null
              ? { requests: { cpu: "500m", memory: GENERATOR_MEMORY } }
              : { requests: { cpu: String(options.exclusiveCpus), memory: GENERATOR_MEMORY }, limits: { cpu: String(options.exclusiveCpus), memory: GENERATOR_MEMORY } },
        },
      ],
    },
  };
}

export async function startInClusterGenerator(options: GeneratorOptions, signal?: AbortSignal): Promise<OpenLoopDriver & { pod: string; node: string }> {
  const { core } = options.connection;
  // Unique per generator: a run may start another while the last one's deletion is still under way.
  const name = dnsLabel(`sidecar-bench-loadgen-${randomBytes(3).toString("hex")}-${options.runId}`);
  const deletePod = () => core.deleteNamespacedPod({ name, namespace: options.namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  await core.createNamespacedPod({ namespace: options.namespace, body: generatorPod(options, name) }).catch((error: unknown) => {
    throw new Error(`cannot create the load generator pod ${options.namespace}/${name}: ${firstLine(error)}`);
  });
  const node = await waitRunning(options, name, signal).catch(async (error: unknown) => {
    await deletePod();
    throw error;
  });
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderrLines: string[] = [];
  const stderr = new PassThrough();
  stderr.setEncoding("utf8");
  stderr.on("data", (chunk: string) => {
    stderrLines.push(...chunk.split("\n").filter(Boolean));
    stderrLines.splice(0, stderrLines.length - STDERR_LINES_KEPT);
  });
  let socket: Awaited<ReturnType<typeof options.connection.exec.exec>>;
  let remote: RemoteOpenLoop;
  try {
    socket = await options.connection.exec.exec(options.namespace, name, CONTAINER, ENTRY, stdout, stderr, stdin, false);
  } catch (error) {
    await deletePod();
    throw new Error(`cannot run the load generator in pod ${options.namespace}/${name}: ${firstLine(error)}`);
  }
  try {
    socket.on("close", () => stdout.end());
    remote = new RemoteOpenLoop(stdin, stdout, `load generator pod ${options.namespace}/${name}`, () => stderrLines.slice(-10));
    await remote.ready();
  } catch (error) {
    // A generator that does not greet (another protocol, a crash) leaves neither its session nor its pod behind.
    stdin.end();
    socket.close();
    await deletePod();
    throw error;
  }
  return {
    pod: name,
    node,
    description: `sidecar-bench open loop (undici and a lean HTTP/1.1 pool), in pod ${options.namespace}/${name} on node ${node} (placement ${options.placement}; node ${GENERATOR_NODE_FLAGS.join(" ")})`,
    targetUrl(pod: StartedPod, container: string, port: string): string {
      if (!(pod instanceof KubernetesPod)) throw new Error("the in-cluster generator reaches only pods of the kubernetes runtime");
      const declared = pod.spec.containers.find((c) => c.name === container)?.ports[port];
      if (declared === undefined) throw new Error(`pod ${pod.spec.name} has no port "${port}" on container "${container}"`);
      return `http://${pod.address()}:${declared}`;
    },
    run: (round) => remote.run(round),
    async close() {
      stdin.end();
      socket.close();
      await deletePod();
    },
  };
}

async function waitRunning(options: GeneratorOptions, name: string, signal?: AbortSignal): Promise<string> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  let last = "Pending";
  let unschedulableSinceMs: number | null = null;
  while (performance.now() < deadline && !signal?.aborted) {
    const pod = await options.connection.core.readNamespacedPod({ name, namespace: options.namespace }).catch((error: unknown) => {
      throw new Error(`load generator pod ${options.namespace}/${name}: the API did not answer: ${firstLine(error)}`);
    });
    const status = pod.status?.containerStatuses?.[0];
    if (status?.state?.running && pod.spec?.nodeName) return pod.spec.nodeName;
    const waiting = status?.state?.waiting;
    if (waiting && /ErrImage|ImagePull|InvalidImage|CreateContainer/.test(waiting.reason ?? "")) {
      throw new Error(`load generator pod ${options.namespace}/${name}: ${waiting.reason}: ${waiting.message ?? ""}; load the image ${options.image.image} on the node (\`sidecar-bench cluster up\` does on its cluster; kind: \`kind load docker-image --name <cluster> <image>\`)`);
    }
    const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    last = unscheduled ? `unschedulable: ${unscheduled.message ?? unscheduled.reason}` : (waiting?.reason ?? pod.status?.phase ?? "Pending");
    unschedulableSinceMs = unscheduled ? (unschedulableSinceMs ?? performance.now()) : null;
    // As for the pods under test (kubernetes-pod.ts): a cluster that does not change while the run waits will not place it.
    if (unschedulableSinceMs !== null && performance.now() - unschedulableSinceMs > UNSCHEDULABLE_GIVE_UP_MS) break;
    await sleep(200);
  }
  if (signal?.aborted) throw new Error(`load generator pod ${options.namespace}/${name}: the run was interrupted before it ran`);
  const hint = last.startsWith("unschedulable") && options.placement === "other-node" ? " (placement other-node needs a second node)" : "";
  throw new Error(`load generator pod ${options.namespace}/${name} not running: ${last}${hint}`);
}
