// For the kubernetes runtime's tests: whether they can run, and on which cluster. Always
// the project's own cluster (`sidecar-bench cluster up`, which `npm test` starts), through
// its own kubeconfig — never the user's current context, which may name a cluster that
// is not for tests. They skip (with the reason) only when it is not running and
// SIDECAR_BENCH_REQUIRE_KUBERNETES is unset; CI sets it, so a missing cluster fails there.
import { existsSync } from "node:fs";
import { clusterLayout } from "../../cluster/cluster-layout.ts";
import { KubeConnection } from "./kube-connection.ts";

export interface KubernetesTestCluster {
  /** Why the tests skip, or null when they run. */
  skipReason: string | null;
  kubeconfig: string;
}

export async function kubernetesTestCluster(env: NodeJS.ProcessEnv = process.env): Promise<KubernetesTestCluster> {
  const layout = clusterLayout(env["SIDECAR_BENCH_CLUSTER_DIR"] ? { stateDir: env["SIDECAR_BENCH_CLUSTER_DIR"] } : {});
  const kubeconfig = layout.adminKubeconfig;
  const required = Boolean(env["SIDECAR_BENCH_REQUIRE_KUBERNETES"]);
  try {
    if (!existsSync(kubeconfig)) throw new Error(`no cluster made by \`sidecar-bench cluster up\` here (${kubeconfig} is missing)`);
    await KubeConnection.load({ kubeconfig }).serverVersion();
    return { skipReason: null, kubeconfig };
  } catch (error) {
    if (required) throw error;
    return { skipReason: `the project's cluster is not running (${(error as Error).message.split(";")[0]}); set SIDECAR_BENCH_REQUIRE_KUBERNETES=1 to fail instead`, kubeconfig };
  }
}
