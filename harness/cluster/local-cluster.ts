// `sidecar-bench cluster up | down | status`: a real single-node Kubernetes cluster on
// this machine, for the kubernetes runtime where kind cannot run (its node images
// cannot be pulled here). up: Debian packages, Kubernetes binaries built from the Go
// module proxy, certificates, then etcd → kube-apiserver → controller-manager and
// scheduler → containerd (the project's pause image imported) → kubelet, until the
// node is Ready; the project's images imported; the user's kubeconfig gets the context.
// down: the pods' sandboxes torn down through CRI, every daemon stopped, and the host
// as it was (host-changes.ts). Both are idempotent.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { BRIDGE_ADDRESS, BRIDGE_NAME, CONTEXT_NAME, KUBERNETES_VERSION, NODE_NAME, POD_SUBNET, type ClusterLayout } from "./cluster-layout.ts";
import { cniConfig, containerdConfig, daemonCommands, kubeletConfig, type DaemonCommand } from "./cluster-configs.ts";
import { healthy, runningPid, startDaemon, stopDaemon } from "./cluster-daemons.ts";
import { syncImages } from "./cluster-images.ts";
import { ensurePki, kubeconfigFor } from "./cluster-pki.ts";
import { ensureHostPackages } from "./host-packages.ts";
import { restoreHost, saveHostRecord, type HostRecord, type RestoreReport } from "./host-changes.ts";
import { binaryPath, ensureKubernetesBinaries } from "./kubernetes-build.ts";
import { mergeIntoUserKubeconfig, removeFromUserKubeconfig } from "./user-kubeconfig.ts";

const DAEMON_START_TIMEOUT_MS = 90_000;
const NODE_READY_TIMEOUT_MS = 120_000;
const ADMIN_USER = "sidecar-bench-admin";

export class ClusterError extends Error {
  override name = "ClusterError";
}

export interface ClusterUpOptions {
  layout: ClusterLayout;
  /** Images to import after the node is ready (the project's; the pause image always goes first). */
  images: string[];
  pauseImage: string;
  /** The user's kubeconfig to merge the context into; null leaves it alone. */
  userKubeconfig: string | null;
  say(line: string): void;
}

export interface ClusterUpResult {
  alreadyRunning: boolean;
  buildSeconds: number;
  binariesBuilt: boolean;
  /** Daemons' start to a Ready node (the binaries built). */
  nodeReadySeconds: number;
  importedImages: string[];
  importSeconds: number;
  serverVersion: string;
  kubeconfig: string;
}

function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return;
  writeFileSync(path, text, { mode: 0o600 });
}

function writeConfigs(layout: ClusterLayout, pauseImage: string): void {
  for (const dir of [layout.stateDir, layout.runDir, layout.cniConfDir, layout.logDir, layout.kubeletRootDir]) mkdirSync(dir, { recursive: true });
  writeIfChanged(`${layout.stateDir}/containerd.toml`, containerdConfig(layout, pauseImage));
  writeIfChanged(`${layout.cniConfDir}/10-sidecar-bench.conflist`, cniConfig(layout));
  writeIfChanged(`${layout.stateDir}/kubelet.yaml`, kubeletConfig(layout));
  writeIfChanged(layout.adminKubeconfig, kubeconfigFor(layout, "admin", ADMIN_USER));
  writeIfChanged(`${layout.stateDir}/kubelet.kubeconfig`, kubeconfigFor(layout, "kubelet-client", `system:node:${NODE_NAME}`));
  writeIfChanged(`${layout.stateDir}/controller-manager.kubeconfig`, kubeconfigFor(layout, "controller-manager", "system:kube-controller-manager"));
  writeIfChanged(`${layout.stateDir}/scheduler.kubeconfig`, kubeconfigFor(layout, "scheduler", "system:kube-scheduler"));
}

function adminClient(layout: ClusterLayout): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(layout.adminKubeconfig);
  return config;
}

async function waitNodeReady(layout: ClusterLayout, timeoutMs: number): Promise<void> {
  const core = adminClient(layout).makeApiClient(CoreV1Api);
  const deadline = performance.now() + timeoutMs;
  let last = "not registered yet";
  while (performance.now() < deadline) {
    try {
      const node = await core.readNode({ name: NODE_NAME });
      const ready = node.status?.conditions?.find((c) => c.type === "Ready");
      if (ready?.status === "True") return;
      last = ready ? `Ready=${ready.status} (${ready.reason ?? ""}: ${ready.message ?? ""})` : "no Ready condition yet";
    } catch (error) {
      last = (error as Error).message.split("\n")[0]!;
    }
    await sleep(250);
  }
  throw new ClusterError(`node ${NODE_NAME} not Ready within ${timeoutMs / 1000} s (last: ${last}); see the kubelet's log in ${layout.logDir}/kubelet.log`);
}

export async function serverVersion(kubeconfig: string): Promise<string> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const info = await config.makeApiClient(VersionApi).getCode();
  return info.gitVersion;
}

/** Every daemon running and healthy, the node Ready? */
export async function clusterRunning(layout: ClusterLayout): Promise<boolean> {
  const daemons = daemonCommands(layout);
  for (const daemon of daemons) if (runningPid(layout, daemon) === null || !(await healthy(daemon.health))) return false;
  return true;
}

export async function clusterUp(options: ClusterUpOptions): Promise<ClusterUpResult> {
  const { layout, say } = options;
  if (process.platform !== "linux") throw new ClusterError("`cluster up` builds a cluster on this Linux machine; elsewhere use kind (kind-config.yaml, README)");
  if (process.getuid?.() !== 0) throw new ClusterError("`cluster up` starts a kubelet and containerd, which need root; run it as root (or use kind: kind-config.yaml, README)");
  const alreadyRunning = await clusterRunning(layout);
  ensureHostPackages(say);
  const build = await ensureKubernetesBinaries(layout, say);
  if (build.built) say(`built in ${build.seconds.toFixed(0)} s → ${layout.binDir}`);
  const made = ensurePki(layout);
  if (made.length > 0) say(`certificates: ${made.join(", ")}`);
  mkdirSync(layout.stateDir, { recursive: true });
  // Before any daemon runs: the host as it is without the cluster.
  saveHostRecord(layout.hostRecordFile);
  writeConfigs(layout, options.pauseImage);

  const daemonsBegan = performance.now();
  const byName = new Map(daemonCommands(layout).map((d) => [d.name, d] as const));
  const start = async (name: DaemonCommand["name"]) => {
    const { started } = await startDaemon(layout, byName.get(name)!, DAEMON_START_TIMEOUT_MS);
    if (started) say(`${name} started`);
  };
  await start("etcd");
  await start("kube-apiserver");
  await Promise.all([start("kube-controller-manager"), start("kube-scheduler"), start("containerd")]);
  // Before the kubelet: its node IP is the bridge's address (the CNI plugin finds the bridge made).
  ensurePodBridge();
  // The sandbox image must be there before the kubelet runs its first pod.
  const pauseImported = await syncImages(layout, [options.pauseImage]);
  // A kubelet refuses to start on a CPU manager checkpoint of another policy (an older config).
  if (runningPid(layout, byName.get("kubelet")!) === null) rmSync(join(layout.kubeletRootDir, "cpu_manager_state"), { force: true });
  await start("kubelet");
  await waitNodeReady(layout, NODE_READY_TIMEOUT_MS);
  const nodeReadySeconds = (performance.now() - daemonsBegan) / 1000;
  say(`node ${NODE_NAME} Ready after ${nodeReadySeconds.toFixed(1)} s`);

  const importBegan = performance.now();
  const imported = [...pauseImported, ...(await syncImages(layout, options.images))];
  const importSeconds = (performance.now() - importBegan) / 1000;
  if (imported.length > 0) say(`images imported into containerd (k8s.io) in ${importSeconds.toFixed(1)} s: ${imported.join(", ")}`);
  if (options.userKubeconfig) mergeIntoUserKubeconfig(options.userKubeconfig, readFileSync(layout.adminKubeconfig, "utf8"), CONTEXT_NAME);
  return {
    alreadyRunning,
    buildSeconds: build.seconds,
    binariesBuilt: build.built,
    nodeReadySeconds,
    importedImages: imported,
    importSeconds,
    serverVersion: await serverVersion(layout.adminKubeconfig),
    kubeconfig: layout.adminKubeconfig,
  };
}

/** The pods' bridge with the host's address on it, as the CNI bridge plugin would make it. */
function ensurePodBridge(): void {
  const prefix = POD_SUBNET.split("/")[1];
  const steps = [
    ["link", "add", BRIDGE_NAME, "type", "bridge"],
    ["addr", "add", `${BRIDGE_ADDRESS}/${prefix}`, "dev", BRIDGE_NAME],
    ["link", "set", BRIDGE_NAME, "up"],
  ];
  const exists = spawnSync("ip", ["link", "show", BRIDGE_NAME], { stdio: "ignore" }).status === 0;
  for (const step of exists ? steps.slice(1) : steps) {
    const result = spawnSync("ip", step, { encoding: "utf8" });
    if (result.status !== 0 && !/File exists|already assigned/.test(result.stderr)) throw new ClusterError(`ip ${step.join(" ")} failed: ${result.stderr.trim()}`);
  }
}

export interface ClusterDownResult {
  stoppedDaemons: string[];
  removedSandboxes: number;
  restored: RestoreReport;
  kubeconfigContextRemoved: boolean;
}

/** crictl against the cluster's containerd: stop and remove every pod sandbox (the CNI releases each one's address and namespace). */
function removeAllSandboxes(layout: ClusterLayout): number {
  const crictl = binaryPath(layout, "crictl");
  if (!existsSync(crictl) || !existsSync(layout.containerdSocket)) return 0;
  const endpoint = ["--runtime-endpoint", `unix://${layout.containerdSocket}`, "--timeout", "30s"];
  const list = spawnSync(crictl, [...endpoint, "pods", "--quiet"], { encoding: "utf8", timeout: 60_000 });
  const ids = (list.stdout ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
  if (ids.length > 0) spawnSync(crictl, [...endpoint, "rmp", "--force", ...ids], { stdio: "ignore", timeout: 120_000 });
  return ids.length;
}

export async function clusterDown(options: { layout: ClusterLayout; userKubeconfig: string | null; say(line: string): void }): Promise<ClusterDownResult> {
  const { layout, say } = options;
  const daemons = new Map(daemonCommands(layout).map((d) => [d.name, d] as const));
  const stopped: string[] = [];
  const stop = async (name: DaemonCommand["name"]) => {
    if (await stopDaemon(layout, daemons.get(name)!)) stopped.push(name);
  };
  // The kubelet first, so it does not start again what is being removed.
  await stop("kubelet");
  const removedSandboxes = removeAllSandboxes(layout);
  if (removedSandboxes > 0) say(`removed ${removedSandboxes} pod sandbox(es)`);
  await Promise.all([stop("kube-controller-manager"), stop("kube-scheduler")]);
  await stop("kube-apiserver");
  await stop("etcd");
  await stop("containerd");
  const record = existsSync(layout.hostRecordFile) ? (JSON.parse(readFileSync(layout.hostRecordFile, "utf8")) as HostRecord) : null;
  const restored = restoreHost(record, [layout.kubeletRootDir, layout.runDir, layout.containerdRootDir]);
  // A fresh cluster next time; binaries, certificates and imported images stay.
  for (const dir of [layout.etcdDataDir, layout.kubeletRootDir, layout.runDir]) rmSync(dir, { recursive: true, force: true });
  if (restored.problems.length === 0) rmSync(layout.hostRecordFile, { force: true });
  const kubeconfigContextRemoved = options.userKubeconfig ? removeFromUserKubeconfig(options.userKubeconfig, CONTEXT_NAME, ADMIN_USER) : false;
  return { stoppedDaemons: stopped, removedSandboxes, restored, kubeconfigContextRemoved };
}

export interface ClusterStatus {
  daemons: Array<{ name: string; pid: number | null; healthy: boolean }>;
  running: boolean;
  serverVersion: string | null;
  kubernetesVersion: string;
  kubeconfig: string;
}

export async function clusterStatus(layout: ClusterLayout): Promise<ClusterStatus> {
  const daemons = await Promise.all(
    daemonCommands(layout).map(async (d) => ({ name: d.name, pid: runningPid(layout, d), healthy: await healthy(d.health) })),
  );
  const running = daemons.every((d) => d.pid !== null && d.healthy);
  return {
    daemons,
    running,
    serverVersion: running ? await serverVersion(layout.adminKubeconfig).catch(() => null) : null,
    kubernetesVersion: KUBERNETES_VERSION,
    kubeconfig: layout.adminKubeconfig,
  };
}
