// Where the project's own single-node cluster lives on this machine, and the fixed facts
// of its shape. Everything binds to 127.0.0.1; pods get addresses on a bridge of their own
// with no route beyond it (no default gateway, no masquerade), so a pod can reach only
// other pods and this host.
import { homedir } from "node:os";
import { join } from "node:path";

/** Pinned: binaries are built from the Go module proxy at exactly this release. */
export const KUBERNETES_VERSION = "v1.34.4";
/** The staging modules (k8s.io/api, client-go, …) at the release matching KUBERNETES_VERSION. */
export const KUBERNETES_STAGING_VERSION = "v0.34.4";
export const KUBERNETES_PROGRAMS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl"] as const;
export type KubernetesProgram = (typeof KUBERNETES_PROGRAMS)[number];

/** The node's name as the kubelet registers it (--hostname-override). */
export const NODE_NAME = "localhost";
export const CONTEXT_NAME = "sidecar-bench";

/** Off the usual ports (6443, 2379), so a kind cluster or a system etcd on this machine does not collide. */
export const PORTS = {
  apiserver: 16443,
  etcdClient: 12379,
  etcdPeer: 12380,
  kubelet: 10250,
  kubeletHealthz: 10248,
  controllerManager: 10257,
  scheduler: 10259,
} as const;

export const POD_SUBNET = "10.247.0.0/24";
export const BRIDGE_ADDRESS = "10.247.0.1";
export const BRIDGE_NAME = "sbk8s0";
/** Required by the API server, unused: the cluster runs no kube-proxy and no Services. */
export const SERVICE_SUBNET = "10.248.0.0/24";

export interface ClusterLayout {
  /** Persistent: PKI, etcd data, kubelet root, containerd's content store (imported images survive down/up). */
  stateDir: string;
  /** Sockets and runtime state (tmpfs-like, removed on down). */
  runDir: string;
  /** Built binaries, by version: survives `cluster down` and new clones. */
  binDir: string;
  /** The throwaway Go module the binaries are built from. */
  buildDir: string;
  logDir: string;
  pkiDir: string;
  etcdDataDir: string;
  kubeletRootDir: string;
  containerdRootDir: string;
  containerdStateDir: string;
  containerdSocket: string;
  cniConfDir: string;
  cniIpamDir: string;
  /** kubeconfig with cluster-admin rights for the harness and users. */
  adminKubeconfig: string;
  /** What `cluster up` changed on the host, so `cluster down` can restore it. */
  hostRecordFile: string;
  /** project image → image id imported into containerd (so unchanged images are not imported again). */
  importedImagesFile: string;
}

export interface LayoutOptions {
  /** Default /var/lib/sidecar-bench/cluster (SIDECAR_BENCH_CLUSTER_DIR at the CLI edge). */
  stateDir?: string;
  /** Default ~/.cache/sidecar-bench (the built binaries live under it). */
  cacheDir?: string;
}

export function clusterLayout(options: LayoutOptions = {}): ClusterLayout {
  const stateDir = options.stateDir ?? "/var/lib/sidecar-bench/cluster";
  const cacheDir = options.cacheDir ?? join(homedir(), ".cache", "sidecar-bench");
  const runDir = join("/run", "sidecar-bench-cluster");
  const buildDir = join(cacheDir, "kubernetes", KUBERNETES_VERSION);
  return {
    stateDir,
    runDir,
    binDir: join(buildDir, "bin"),
    buildDir,
    logDir: join(stateDir, "logs"),
    pkiDir: join(stateDir, "pki"),
    etcdDataDir: join(stateDir, "etcd"),
    kubeletRootDir: join(stateDir, "kubelet"),
    containerdRootDir: join(stateDir, "containerd"),
    containerdStateDir: join(runDir, "containerd"),
    containerdSocket: join(runDir, "containerd.sock"),
    cniConfDir: join(stateDir, "cni", "net.d"),
    cniIpamDir: join(runDir, "cni-ipam"),
    adminKubeconfig: join(stateDir, "admin.kubeconfig"),
    hostRecordFile: join(stateDir, "host-record.json"),
    importedImagesFile: join(stateDir, "imported-images.json"),
  };
}
