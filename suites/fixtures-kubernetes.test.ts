// The fixture suite on the kubernetes runtime, on the project's own cluster: one faulty
// fixture per mechanism the kubelet owns, each against its own check, and good-proxy
// through every test (suites/support/fixture-suite.ts). Skips saying why without the
// cluster; fails instead under SIDECAR_BENCH_REQUIRE_KUBERNETES=1 (CI).
import { kubernetesTestCluster } from "../harness/runtime/kubernetes/kubernetes-test-cluster.ts";
import { runtimeFixtureSuite } from "./support/fixture-suite.ts";

const kubernetes = await kubernetesTestCluster().then(
  (cluster) => ({ skipReason: cluster.skipReason, failure: null, kubeconfig: cluster.kubeconfig }),
  (error: Error) => ({ skipReason: null, failure: error }),
);
runtimeFixtureSuite("kubernetes", kubernetes, "the project's cluster");
