// The one place a runtime name becomes a PodRuntime, so every command (run, certify,
// compare) accepts the same --runtime values and fails the same way on an unknown one.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { PodRuntime } from "./pod-runtime.ts";
import { DockerRuntime } from "./docker/docker-runtime.ts";
import { LocalRuntime } from "./local/local-runtime.ts";
import { KubernetesRuntime, type KubernetesDescription } from "./kubernetes/kubernetes-runtime.ts";
import { clusterLayout } from "../cluster/cluster-layout.ts";
import { containerLogMaxBytes } from "./logs/log-limits.ts";

import { AVAILABLE_RUNTIMES, type PodAccessMode } from "./runtime-names.ts";
import { venvDir } from "../project-root.ts";

export { AVAILABLE_RUNTIMES };

/** The kubernetes runtime's options (CLI flags, or the certify worker's environment). */
export interface KubernetesRequest {
  /** kubeconfig file; default KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  context?: string;
  /** Objects in this namespace instead of one namespace per run. */
  namespace?: string;
  podAccess?: PodAccessMode;
  /** State folder of the project's own cluster (`cluster up`), if not the default. */
  clusterDir?: string;
}

export interface RuntimeRequest {
  name: string;
  /** Run files (rendered configs, container logs) go under it. */
  workDir: string;
  projectRoot: string;
  kubernetes?: KubernetesRequest;
}

/** A runtime plus the facts the reports record about it. */
export interface CreatedRuntime {
  runtime: PodRuntime;
  /** Where resource figures come from: "cgroup-v1", "cgroup-v2", "proc", "docker", … */
  accounting: string;
  /** PATH the pods' commands resolve on (versions in the fingerprint come from it). */
  commandPath: string;
}

/** What the environment fingerprint records of a runtime beyond its name (nothing for local). */
export interface RuntimeDescription {
  /** Version of the engine that ran the pods (Docker's server version). */
  engineVersion?: string;
  /** Image name → image id of every image a pod ran. */
  images?: Record<string, string>;
  /** How the engine published the pods' ports on this host (docker-proxy or kernel NAT): it shows in latency. */
  portPublishing?: string;
  /** kubernetes: the cluster (context, server version, nodes), how pods were reached, signalled and accounted, and the images they ran. */
  cluster?: KubernetesDescription & { images: string[] };
  /** Where resource figures came from, when only the started runtime knows (kubernetes). */
  accounting?: string;
}

/**
 * Ask after the pods started: only then does a docker runtime know their images.
 * `declaredImages`: images of manifests whose pods ran in another process (certify).
 */
export async function describeRuntime(runtime: PodRuntime, declaredImages: readonly string[] = []): Promise<RuntimeDescription> {
  if (runtime instanceof KubernetesRuntime) {
    const cluster = await runtime.describe();
    return { cluster: { ...cluster, images: runtime.imagesUsed() }, accounting: `kubernetes: ${cluster.accounting}` };
  }
  if (runtime instanceof DockerRuntime) {
    const publishing = runtime.portPublishing();
    return { engineVersion: await runtime.engineVersion(), images: await runtime.describeImages(declaredImages), ...(publishing ? { portPublishing: publishing } : {}) };
  }
  return {};
}

export class RuntimeUnavailableError extends Error {
  override name = "RuntimeUnavailableError";
}

export function unavailableRuntimeMessage(name: string): string | null {
  return (AVAILABLE_RUNTIMES as readonly string[]).includes(name)
    ? null
    : `the "${name}" runtime is not available in this version; use ${AVAILABLE_RUNTIMES.map((r) => `"${r}"`).join(", ")}`;
}

/** Synchronous so vitest can declare suites with it; an engine that is down shows at the first call (reapOrphans). */
export function createRuntime(request: RuntimeRequest): CreatedRuntime {
  const unavailable = unavailableRuntimeMessage(request.name);
  if (unavailable) throw new RuntimeUnavailableError(unavailable);
  const venvBin = join(venvDir(request.projectRoot), "bin");
  // Per container log file cap: the kubelet's default, or SIDECAR_BENCH_CONTAINER_LOG_MAX_MIB.
  const logMaxBytes = containerLogMaxBytes(process.env);
  if (request.name === "kubernetes") {
    const options = request.kubernetes ?? {};
    const layout = clusterLayout(options.clusterDir ? { stateDir: options.clusterDir } : {});
    const runtime = new KubernetesRuntime({
      workDir: request.workDir,
      projectRoot: request.projectRoot,
      target: { ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), ...(options.context ? { context: options.context } : {}), ...(options.namespace ? { namespace: options.namespace } : {}) },
      podAccess: options.podAccess ?? "auto",
      // The project's own cluster, when `cluster up` made one here: its images are imported on demand.
      localCluster: existsSync(layout.adminKubeconfig) ? layout : null,
      containerLogMaxBytes: logMaxBytes,
    });
    // Known once connected: describeRuntime() says which (the node's cgroups or the kubelet's stats).
    return { runtime, accounting: "kubernetes", commandPath: [venvBin, process.env.PATH ?? ""].join(delimiter) };
  }
  if (request.name === "docker") {
    // Pods run the project's images, which carry the same node and envoy binaries as
    // .venv and PATH: the host's versions are the fingerprint's best account of them.
    const runtime = new DockerRuntime({ workDir: request.workDir, containerLogMaxBytes: logMaxBytes });
    return { runtime, accounting: runtime.accountingSource(), commandPath: [venvBin, process.env.PATH ?? ""].join(delimiter) };
  }
  const runtime = new LocalRuntime({ workDir: request.workDir, extraPath: [venvBin], containerLogMaxBytes: logMaxBytes });
  return { runtime, accounting: runtime.accountingSource(), commandPath: [venvBin, process.env.PATH ?? ""].join(delimiter) };
}
