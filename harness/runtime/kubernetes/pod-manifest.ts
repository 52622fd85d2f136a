// A PodSpec as a real Kubernetes Pod with native sidecars (a pure function, tested field
// by field): sidecars are init containers with restartPolicy Always, in start order;
// mains are containers; probes, limits, the grace period and the restart policy map to
// their Kubernetes fields. Rendered `{{ file }}` configs travel in a ConfigMap mounted
// read-only where the commands name them.
//
// Two things the pod gets beyond the spec, both for parity with the other runtimes:
// - A first init container (`sidecar-bench-net`, privileged, exits before the sidecars
//   start) that adds, for each declared port, a DNAT rule in the pod's own network
//   namespace to 127.0.0.1:<port>, as the docker runtime's pause container does: the
//   project's containers listen on 127.0.0.1 as on the local runtime, and traffic from
//   the pod network (other pods, the kubelet's probes) reaches them there. Istio's
//   istio-init sets up its redirection the same way.
// - One PID namespace for the pod (shareProcessNamespace), as the docker runtime's: pids a
//   check compares are distinct, and no container's command is PID 1 (which would ignore
//   signals it has no handler for).
// Each container gets an emptyDir at /tmp that outlives its restarts, as on docker, and
// each pod volume (pod-volumes.ts) is an emptyDir mounted at POD_VOLUMES_PATH/<name> in the
// containers that mount it.
import type { V1ConfigMap, V1Container, V1Pod, V1Probe, V1ResourceRequirements, V1VolumeMount } from "@kubernetes/client-node";
import type { ContainerSpec, PodSpec, ProbeSpec } from "../pod-runtime.ts";
import { podVolumeNames } from "../pod-volumes.ts";
import { LABEL_POD, LABEL_ROLE } from "./kube-names.ts";

/** Where rendered config files appear in every container that uses them. */
export const CONFIG_MOUNT_PATH = "/etc/sidecar-bench/config";
export const NET_INIT_CONTAINER = "sidecar-bench-net";
/**
 * Where a pod volume appears in the containers that mount it (what `{{ volume 'name' }}`
 * expands to). A top-level path: under /var/run (a symlink to /run in Debian images) the
 * harness could not reach it through /proc/<pid>/root, where an absolute symlink resolves
 * against the host's root.
 */
export const POD_VOLUMES_PATH = "/sidecar-bench/volumes";
/** Kubernetes probes run at most once per second. */
const MIN_PROBE_PERIOD_S = 1;

export interface ContainerRendering {
  /** Command with templates rendered (ports, host, file paths under CONFIG_MOUNT_PATH). */
  command: string[];
  env: Record<string, string>;
  image: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  /** Where the command runs; undefined keeps the image's own. */
  workingDir?: string;
  /** Probe actions with exec commands rendered (template.ts renderProbeAction); absent: the spec's as written. */
  probeActions?: { startup?: ProbeSpec["action"]; readiness?: ProbeSpec["action"] };
}

export interface PodManifestInput {
  spec: PodSpec;
  /** Kubernetes name of the pod (a DNS label). */
  podName: string;
  namespace: string;
  /** Kubernetes name of each container, by the spec's container name. */
  containerNames: Record<string, string>;
  rendering: Record<string, ContainerRendering>;
  /** Rendered files by ConfigMap key (file name under CONFIG_MOUNT_PATH). */
  configFiles: Record<string, string>;
  labels: Record<string, string>;
  /** The image of the NAT init container (needs sh, iptables). */
  netInitImage: { image: string; imagePullPolicy: ContainerRendering["imagePullPolicy"] };
}

export interface PodManifests {
  pod: V1Pod;
  configMap: V1ConfigMap | null;
}

/** The ms figures of a probe as Kubernetes' whole seconds: the nearest period, never below 1 s; a timeout never shorter than the spec's. */
export function probeSeconds(probe: ProbeSpec): { periodSeconds: number; timeoutSeconds: number } {
  return {
    periodSeconds: Math.max(MIN_PROBE_PERIOD_S, Math.round(probe.periodMs / 1000)),
    timeoutSeconds: Math.max(1, Math.ceil(probe.timeoutMs / 1000)),
  };
}

function probeAction(probe: ProbeSpec, container: ContainerSpec): Pick<V1Probe, "httpGet" | "tcpSocket" | "exec"> {
  const port = (name: string) => {
    const number = container.ports[name];
    if (number === undefined) throw new Error(`container "${container.name}": its probe names port "${name}", which it does not declare`);
    return number;
  };
  const { action } = probe;
  if ("http" in action) {
    if (action.http.expectStatus !== undefined && (action.http.expectStatus < 200 || action.http.expectStatus > 399)) {
      throw new Error(`container "${container.name}": an http probe expecting status ${action.http.expectStatus} cannot be a Kubernetes httpGet probe, which passes on 200–399 only`);
    }
    return { httpGet: { path: action.http.path, port: port(action.http.port) } };
  }
  if ("tcp" in action) return { tcpSocket: { port: port(action.tcp.port) } };
  return { exec: { command: [...action.exec.command] } };
}

export function startupProbe(probe: ProbeSpec, container: ContainerSpec): V1Probe {
  const seconds = probeSeconds(probe);
  return {
    ...probeAction(probe, container),
    ...seconds,
    // The spec's startup bound, in tries: the kubelet gives up (and restarts) after it.
    failureThreshold: Math.max(1, Math.ceil(container.startupTimeoutMs / (seconds.periodSeconds * 1000))),
    successThreshold: 1,
  };
}

export function readinessProbe(probe: ProbeSpec, container: ContainerSpec): V1Probe {
  return { ...probeAction(probe, container), ...probeSeconds(probe), failureThreshold: probe.failureThreshold, successThreshold: 1 };
}

/** Limits as requests too (Guaranteed when both are set), so the scheduler counts what the cgroup enforces. */
export function resourceRequirements(container: ContainerSpec): V1ResourceRequirements | undefined {
  const limits: Record<string, string> = {};
  const memoryMiB = container.resources?.memoryMiB;
  // A fraction of a MiB in bytes, as the other runtimes set it: rounded to whole MiB, 0.4 would be "0Mi", which is no limit at all.
  if (memoryMiB !== undefined) limits["memory"] = Number.isInteger(memoryMiB) ? `${memoryMiB}Mi` : String(Math.round(memoryMiB * 1024 * 1024));
  if (container.resources?.cpus !== undefined) limits["cpu"] = `${Math.max(1, Math.round(container.resources.cpus * 1000))}m`;
  return Object.keys(limits).length === 0 ? undefined : { limits, requests: { ...limits } };
}

function tmpVolumeName(index: number): string {
  return `tmp-${index}`;
}

/** Pod volumes and the per-container /tmp volumes share the pod's volume namespace: prefixed apart. */
function podVolumeName(name: string): string {
  return `volume-${name}`;
}

export function podVolumeMountPath(name: string): string {
  return `${POD_VOLUMES_PATH}/${name}`;
}

function usesConfig(rendering: ContainerRendering): boolean {
  return rendering.command.some((arg) => arg.includes(CONFIG_MOUNT_PATH)) || Object.values(rendering.env).some((value) => value.includes(CONFIG_MOUNT_PATH));
}

/** The NAT init container's program: route_localnet, then one DNAT rule per port (see the file's comment). */
export function netInitCommand(ports: readonly number[]): string[] {
  const script = [
    "set -eu",
    "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet",
    'for port in "$@"; do iptables -w 5 -t nat -A PREROUTING -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port"; done',
    'echo "sidecar-bench-net: ports ${*:-none} to 127.0.0.1"',
  ].join("\n");
  return ["sh", "-c", script, "sidecar-bench-net", ...ports.map(String)];
}

function container(spec: ContainerSpec, index: number, input: PodManifestInput, configMapName: string | null): V1Container {
  const rendering = input.rendering[spec.name];
  if (!rendering) throw new Error(`no rendering for container "${spec.name}"`);
  const volumeMounts: V1VolumeMount[] = [{ name: tmpVolumeName(index), mountPath: "/tmp" }];
  if (configMapName && usesConfig(rendering)) volumeMounts.push({ name: "config", mountPath: CONFIG_MOUNT_PATH, readOnly: true });
  for (const name of spec.volumes ?? []) volumeMounts.push({ name: podVolumeName(name), mountPath: podVolumeMountPath(name) });
  const resources = resourceRequirements(spec);
  return {
    name: input.containerNames[spec.name]!,
    image: rendering.image,
    imagePullPolicy: rendering.imagePullPolicy,
    command: rendering.command,
    ...(rendering.workingDir ? { workingDir: rendering.workingDir } : {}),
    env: Object.entries(rendering.env).map(([name, value]) => ({ name, value })),
    ports: [...new Set(Object.values(spec.ports))].map((containerPort) => ({ containerPort, protocol: "TCP" })),
    ...(spec.probes.startup ? { startupProbe: startupProbe({ ...spec.probes.startup, action: rendering.probeActions?.startup ?? spec.probes.startup.action }, spec) } : {}),
    ...(spec.probes.readiness
      ? { readinessProbe: readinessProbe({ ...spec.probes.readiness, action: rendering.probeActions?.readiness ?? spec.probes.readiness.action }, spec) }
      : {}),
    ...(resources ? { resources } : {}),
    volumeMounts,
    ...(spec.kind === "sidecar" ? { restartPolicy: "Always" } : {}),
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}

export function podManifests(input: PodManifestInput): PodManifests {
  const { spec } = input;
  const sidecars = spec.containers.filter((c) => c.kind === "sidecar");
  const mains = spec.containers.filter((c) => c.kind === "main");
  if (mains.length === 0) throw new Error(`pod ${spec.name}: Kubernetes needs at least one main container`);
  const hasConfig = Object.keys(input.configFiles).length > 0;
  const configMapName = hasConfig ? `${input.podName}-config` : null;
  const indexOf = (c: ContainerSpec) => spec.containers.indexOf(c);
  const ports = [...new Set(spec.containers.flatMap((c) => Object.values(c.ports)))].sort((a, b) => a - b);
  const labels = { ...input.labels, [LABEL_POD]: input.podName, [LABEL_ROLE]: "pod-under-test" };
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: input.podName, namespace: input.namespace, labels },
    spec: {
      restartPolicy: spec.restartPolicy ?? "Never",
      terminationGracePeriodSeconds: Math.max(0, Math.ceil(spec.terminationGracePeriodMs / 1000)),
      shareProcessNamespace: true,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      dnsPolicy: "Default",
      initContainers: [
        {
          name: NET_INIT_CONTAINER,
          image: input.netInitImage.image,
          imagePullPolicy: input.netInitImage.imagePullPolicy,
          command: netInitCommand(ports),
          securityContext: { privileged: true },
        },
        ...sidecars.map((c) => container(c, indexOf(c), input, configMapName)),
      ],
      containers: mains.map((c) => container(c, indexOf(c), input, configMapName)),
      volumes: [
        ...spec.containers.map((_, index) => ({ name: tmpVolumeName(index), emptyDir: {} })),
        ...podVolumeNames(spec).map((name) => ({ name: podVolumeName(name), emptyDir: {} })),
        ...(configMapName ? [{ name: "config", configMap: { name: configMapName } }] : []),
      ],
    },
  };
  const configMap: V1ConfigMap | null = configMapName
    ? { apiVersion: "v1", kind: "ConfigMap", metadata: { name: configMapName, namespace: input.namespace, labels: { ...input.labels, [LABEL_POD]: input.podName, [LABEL_ROLE]: "config" } }, data: { ...input.configFiles } }
    : null;
  return { pod, configMap };
}
