// doctor's kubernetes section: which cluster the current kubeconfig context names, whether
// its API server answers and with which version, whether native sidecars are on there,
// its nodes, and which of the project's images each node has. Probes only (reads of the
// API, each bounded); it starts no pod.
import { existsSync } from "node:fs";
import { clusterLayout } from "../cluster/cluster-layout.ts";
import { containerdName } from "../cluster/cluster-images.ts";
import { clusterImages } from "../cluster/project-cluster-images.ts";
import { KubeConnection, firstLine } from "../runtime/kubernetes/kube-connection.ts";
import { isLocalAddress } from "../runtime/kubernetes/node-agent.ts";
import type { DoctorCheck } from "./doctor-report.ts";

const PROBE_TIMEOUT_MS = 10_000;
/** Native sidecars (init containers with restartPolicy Always): on by default from 1.29, GA in 1.33. */
const NATIVE_SIDECARS_FROM = [1, 29] as const;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS).unref())]);
}

export function nativeSidecarsOn(gitVersion: string): boolean {
  const match = /^v(\d+)\.(\d+)/.exec(gitVersion);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > NATIVE_SIDECARS_FROM[0] || (major === NATIVE_SIDECARS_FROM[0] && minor >= NATIVE_SIDECARS_FROM[1]);
}

export async function kubernetesChecks(projectRoot: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const layout = clusterLayout();
  const projectCluster = existsSync(layout.adminKubeconfig);
  let connection: KubeConnection;
  try {
    connection = KubeConnection.load({});
  } catch (error) {
    if (!projectCluster) return [{ name: "cluster", status: "fail", detail: (error as Error).message.split(";")[0]!, fix: "sidecar-bench cluster up (a cluster on this machine), or kind create cluster --name sidecar-bench --config kind-config.yaml" }];
    connection = KubeConnection.load({ kubeconfig: layout.adminKubeconfig });
  }
  checks.push({ name: "context", status: "info", detail: `${connection.contextName} (${connection.server})${projectCluster ? `; the project's own cluster has its kubeconfig at ${layout.adminKubeconfig}` : ""}` });
  let version: string;
  try {
    version = await withTimeout(connection.serverVersion(), "the API server");
  } catch (error) {
    checks.push({ name: "API server", status: "fail", detail: (error as Error).message.split(";")[0]!, fix: "sidecar-bench cluster up, or make the current context of KUBECONFIG (or ~/.kube/config) a running cluster; run, certify and compare also take --kubeconfig / --context" });
    return checks;
  }
  checks.push({ name: "API server", status: "ok", detail: `Kubernetes ${version}` });
  checks.push(
    nativeSidecarsOn(version)
      ? { name: "native sidecars", status: "ok", detail: `on (${version} ≥ 1.29: init containers with restartPolicy Always)` }
      : { name: "native sidecars", status: "fail", detail: `${version} predates native sidecars (1.29)`, fix: "use Kubernetes 1.29 or newer (sidecar-bench cluster up runs 1.34)" },
  );
  let nodes;
  try {
    nodes = (await withTimeout(connection.core.listNode(), "listing nodes")).items;
  } catch (error) {
    checks.push({ name: "nodes", status: "fail", detail: firstLine(error), fix: "the kubeconfig's user needs to list nodes" });
    return checks;
  }
  if (nodes.length === 0) {
    checks.push({ name: "nodes", status: "fail", detail: "the cluster has no node", fix: "start a kubelet (sidecar-bench cluster up does)" });
    return checks;
  }
  let wanted: string[] = [];
  try {
    wanted = clusterImages(projectRoot);
  } catch (error) {
    checks.push({ name: "images", status: "warn", detail: (error as Error).message, fix: "node scripts/build-images.mjs" });
  }
  for (const node of nodes) {
    const name = node.metadata?.name ?? "?";
    const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    const info = node.status?.nodeInfo;
    const onThisHost = (node.status?.addresses ?? []).some((a) => a.type === "InternalIP" && isLocalAddress(a.address));
    checks.push({
      name: `node ${name}`,
      status: ready ? "ok" : "fail",
      detail: `${ready ? "Ready" : "NOT Ready"}, kubelet ${info?.kubeletVersion ?? "?"}, ${info?.containerRuntimeVersion ?? "?"}; ${onThisHost ? "this machine (pods reached at their addresses, signals and cgroups from here)" : "another machine (pods reached through port-forward)"}`,
      ...(ready ? {} : { fix: "see the kubelet's log" }),
    });
    if (wanted.length === 0) continue;
    const present = new Set((node.status?.images ?? []).flatMap((image) => image.names ?? []));
    const missing = wanted.filter((image) => !present.has(containerdName(image)) && !present.has(image));
    checks.push({
      name: `images on ${name}`,
      status: missing.length === 0 ? "ok" : "warn",
      detail: missing.length === 0 ? `all ${wanted.length} of the project's images` : `${wanted.length - missing.length} of ${wanted.length}; missing ${missing.join(", ")}`,
      ...(missing.length > 0 ? { fix: projectCluster ? "sidecar-bench cluster up (imports them; runs also import what they need)" : `kind load docker-image --name sidecar-bench ${missing.join(" ")}` } : {}),
    });
  }
  return checks;
}
