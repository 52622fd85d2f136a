// `sidecar-bench cluster up | down | status`: the project's own single-node Kubernetes
// cluster on this machine (harness/cluster/local-cluster.ts), for the kubernetes runtime
// where kind cannot run. up builds the project's images first when a Docker engine is
// here (they are what the cluster's pods run), then the cluster, then imports them.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { clusterLayout, KUBERNETES_VERSION } from "../cluster/cluster-layout.ts";
import { clusterDown, clusterStatus, clusterUp } from "../cluster/local-cluster.ts";
import { ensureKubernetesBinaries } from "../cluster/kubernetes-build.ts";
import { PAUSE_IMAGE, clusterImages } from "../cluster/project-cluster-images.ts";
import { resolveImage } from "../runtime/kubernetes/project-images.ts";
import { userKubeconfigPath } from "../cluster/user-kubeconfig.ts";

export interface ClusterCommandInput {
  action: "up" | "down" | "status" | "build" | "images";
  projectRoot: string;
  /** SIDECAR_BENCH_CLUSTER_DIR, if set. */
  clusterDir?: string;
  /** Where `up` adds the context (and `down` removes it); null leaves the user's kubeconfig alone. */
  userKubeconfig: string | null;
  json: boolean;
}

const say = (line: string) => process.stderr.write(`cluster: ${line}\n`);

export async function clusterCommand(input: ClusterCommandInput): Promise<number> {
  const layout = clusterLayout(input.clusterDir ? { stateDir: input.clusterDir } : {});
  if (input.action === "status") {
    const status = await clusterStatus(layout);
    if (input.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else {
      for (const d of status.daemons) process.stdout.write(`${d.name.padEnd(24)} ${d.pid === null ? "not running" : `pid ${d.pid}`}${d.pid !== null ? (d.healthy ? ", healthy" : ", NOT healthy") : ""}\n`);
      process.stdout.write(status.running ? `cluster running: Kubernetes ${status.serverVersion}; kubeconfig ${status.kubeconfig}\n` : `cluster not running (sidecar-bench cluster up starts it)\n`);
    }
    return status.running ? 0 : 1;
  }
  if (input.action === "images") {
    // For `kind load docker-image $(sidecar-bench cluster images)` and the like.
    process.stdout.write(`${clusterImages(input.projectRoot).join("\n")}\n`);
    return 0;
  }
  if (input.action === "build") {
    const result = await ensureKubernetesBinaries(layout, say);
    say(`Kubernetes ${KUBERNETES_VERSION} binaries ${result.built ? `built in ${result.seconds.toFixed(0)} s` : "cached"} in ${layout.binDir}`);
    return 0;
  }
  if (input.action === "down") {
    const result = await clusterDown({ layout, userKubeconfig: input.userKubeconfig, say });
    const { restored } = result;
    say(`stopped ${result.stoppedDaemons.join(", ") || "nothing (it was not running)"}`);
    say(
      `host restored: ${restored.sysctls.length} sysctl(s) [${restored.sysctls.join(", ")}], ${restored.iptablesChains.length} iptables chain(s), ` +
        `${restored.mounts.length} mount(s), ${restored.cgroups} cgroup(s), bridge ${restored.bridge ? "removed" : "absent"}` +
        (result.kubeconfigContextRemoved ? `, context removed from ${input.userKubeconfig}` : ""),
    );
    for (const problem of restored.problems) say(`problem: ${problem}`);
    return restored.problems.length === 0 ? 0 : 1;
  }
  const began = performance.now();
  if (dockerAnswers()) {
    const build = spawnSync(process.execPath, [join(input.projectRoot, "scripts", "build-images.mjs"), "--quiet"], { stdio: ["ignore", "inherit", "inherit"] });
    if (build.status !== 0) say("building the project's images failed (above); continuing with the images there are");
  }
  let images: string[] = [];
  let pauseImage: string;
  try {
    pauseImage = resolveImage(PAUSE_IMAGE, "pause").image;
    images = clusterImages(input.projectRoot);
  } catch (error) {
    process.stderr.write(`cluster up: ${(error as Error).message}\n`);
    return 1;
  }
  let result: Awaited<ReturnType<typeof clusterUp>>;
  try {
    result = await clusterUp({ layout, images, pauseImage, userKubeconfig: input.userKubeconfig, say });
  } catch (error) {
    // Daemons started before the failure keep running, and the host keeps their changes.
    process.stderr.write(`cluster up: ${(error as Error).message}\n`);
    say("`sidecar-bench cluster down` stops whatever did start and restores the host");
    return 1;
  }
  say(
    `${result.alreadyRunning ? "already running" : "up"}: Kubernetes ${result.serverVersion} (${KUBERNETES_VERSION} binaries ${result.binariesBuilt ? `built in ${result.buildSeconds.toFixed(0)} s` : "cached"}), ` +
      `node Ready after ${result.nodeReadySeconds.toFixed(1)} s, ${result.importedImages.length} image(s) imported in ${result.importSeconds.toFixed(1)} s; total ${((performance.now() - began) / 1000).toFixed(1)} s`,
  );
  process.stdout.write(`kubeconfig: ${result.kubeconfig}${input.userKubeconfig ? ` (context "sidecar-bench" is current in ${input.userKubeconfig})` : ""}\n`);
  process.stdout.write(`next: sidecar-bench run --runtime kubernetes\n`);
  return 0;
}

function dockerAnswers(): boolean {
  return spawnSync("docker", ["info"], { stdio: "ignore", timeout: 20_000 }).status === 0;
}

export { userKubeconfigPath };
