// The configuration files and command lines of the cluster's daemons, as pure functions
// of the layout (tested without starting anything).
import { cpus } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { binaryPath } from "./kubernetes-build.ts";
import { BRIDGE_ADDRESS, BRIDGE_NAME, NODE_NAME, POD_SUBNET, PORTS, SERVICE_SUBNET, type ClusterLayout } from "./cluster-layout.ts";
import { pkiPath } from "./cluster-pki.ts";

/** Per container log file size before the kubelet rotates it (its own default). */
export const CONTAINER_LOG_MAX_SIZE = "10Mi";
export const CONTAINER_LOG_MAX_FILES = 2;

export interface DaemonCommand {
  name: "etcd" | "containerd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubelet";
  file: string;
  args: string[];
  /** Where readiness is checked: an HTTP(S) health path, or a socket that must exist. */
  health: { url: string } | { socket: string };
}

/**
 * containerd 1.6 (Debian's) as a second instance beside any Docker engine's: its own root,
 * state and socket. restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, and without
 * it every sandbox fails ("can't get final child's PID from pipe: EOF"). The sandbox image
 * is the project's own pause image, imported beforehand (nothing can be pulled).
 */
export function containerdConfig(layout: ClusterLayout, pauseImage: string): string {
  return `version = 2
root = "${layout.containerdRootDir}"
state = "${layout.containerdStateDir}"
oom_score = 0

[grpc]
  address = "${layout.containerdSocket}"

[ttrpc]
  address = "${layout.containerdSocket}.ttrpc"

[debug]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${join(layout.runDir, "runc")}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${layout.cniConfDir}"
`;
}

/**
 * Pods on a bridge of their own: the bridge holds the first address (so this host reaches
 * pods and the kubelet probes them), pods get no route but their subnet's (no default
 * gateway, no masquerade): nothing in a pod can reach beyond this host's pods.
 */
export function cniConfig(layout: ClusterLayout): string {
  return JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: "sidecar-bench",
      plugins: [
        {
          type: "bridge",
          bridge: BRIDGE_NAME,
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: POD_SUBNET }]], routes: [], dataDir: layout.cniIpamDir },
        },
        // Pod-to-pod traffic crosses the host's FORWARD chain (bridge netfilter), whose
        // policy a Docker engine sets to DROP: the firewall plugin admits each pod's own
        // traffic (and removes its rules with the pod).
        { type: "firewall", backend: "iptables" },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(layout: ClusterLayout, cpuCount = cpus().length): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // The pods' bridge address (this host's, reaching nothing beyond it), not 127.0.0.1: the
    // API server refuses to proxy to a loopback node address, and its node proxy is how a
    // harness off the node reads the kubelet's stats. Callers need this cluster's client
    // certificates (anonymous access is off).
    address: BRIDGE_ADDRESS,
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: PORTS.kubeletHealthz,
    tlsCertFile: pkiPath(layout, "kubelet-serving.crt"),
    tlsPrivateKeyFile: pkiPath(layout, "kubelet-serving.key"),
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: pkiPath(layout, "ca.crt") } },
    // Only holders of this cluster's client certificates reach the kubelet at all.
    authorization: { mode: "AlwaysAllow" },
    containerRuntimeEndpoint: `unix://${layout.containerdSocket}`,
    cgroupDriver: "cgroupfs",
    failSwapOn: false,
    // A shared development machine: never evict the pods under test for the disk the rest of it uses.
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
    imageGCHighThresholdPercent: 100,
    containerLogMaxSize: CONTAINER_LOG_MAX_SIZE,
    containerLogMaxFiles: CONTAINER_LOG_MAX_FILES,
    serializeImagePulls: false,
    resolvConf: "/etc/resolv.conf",
    // Reports reach the API quickly: status changes are what the runtime watches.
    nodeStatusUpdateFrequency: "10s",
    syncFrequency: "10s",
    staticPodPath: "",
    // The benchmark's load generator pod is Guaranteed with one whole CPU: the static CPU
    // manager gives it that CPU alone, so it and the pods under test do not compete
    // (DESIGN rule 10, as the local runtime pins with taskset). The policy needs a CPU
    // reservation: a tenth of a core keeps one whole CPU in the shared pool (the control
    // plane, the harness, the pods under test) while 1.9 CPUs stay allocatable.
    ...(cpuCount >= 2 ? { cpuManagerPolicy: "static", kubeReserved: { cpu: "100m" } } : {}),
  });
}

export function daemonCommands(layout: ClusterLayout): DaemonCommand[] {
  const pki = (file: string) => pkiPath(layout, file);
  const local = "127.0.0.1";
  return [
    {
      name: "etcd",
      file: "etcd",
      args: [
        "--name=sidecar-bench",
        `--data-dir=${layout.etcdDataDir}`,
        `--listen-client-urls=http://${local}:${PORTS.etcdClient}`,
        `--advertise-client-urls=http://${local}:${PORTS.etcdClient}`,
        `--listen-peer-urls=http://${local}:${PORTS.etcdPeer}`,
        `--initial-advertise-peer-urls=http://${local}:${PORTS.etcdPeer}`,
        `--initial-cluster=sidecar-bench=http://${local}:${PORTS.etcdPeer}`,
        "--listen-metrics-urls=",
        "--quota-backend-bytes=2147483648",
      ],
      health: { url: `http://${local}:${PORTS.etcdClient}/health` },
    },
    { name: "containerd", file: "containerd", args: ["--config", join(layout.stateDir, "containerd.toml")], health: { socket: layout.containerdSocket } },
    {
      name: "kube-apiserver",
      file: binaryPath(layout, "kube-apiserver"),
      args: [
        `--etcd-servers=http://${local}:${PORTS.etcdClient}`,
        `--bind-address=${local}`,
        `--advertise-address=${local}`,
        `--secure-port=${PORTS.apiserver}`,
        // A single API server on loopback: no endpoint reconciling for the kubernetes Service.
        "--endpoint-reconciler-type=none",
        `--service-cluster-ip-range=${SERVICE_SUBNET}`,
        `--client-ca-file=${pki("ca.crt")}`,
        `--tls-cert-file=${pki("apiserver.crt")}`,
        `--tls-private-key-file=${pki("apiserver.key")}`,
        `--kubelet-client-certificate=${pki("apiserver-kubelet-client.crt")}`,
        `--kubelet-client-key=${pki("apiserver-kubelet-client.key")}`,
        // The node's InternalIP is the pods' bridge address, where the kubelet serves.
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        `--service-account-issuer=https://kubernetes.default.svc`,
        `--service-account-key-file=${pki("sa.pub")}`,
        `--service-account-signing-key-file=${pki("sa.key")}`,
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        "--profiling=false",
        // Debian's etcd 3.4 lacks progress notifications (RequestWatchProgress): reads and
        // watches served from the API server's cache wait for a revision the cache never
        // learns of ("Too large resource version"). Without the cache they go to etcd.
        "--watch-cache=false",
      ],
      health: { url: `https://${local}:${PORTS.apiserver}/readyz` },
    },
    {
      name: "kube-controller-manager",
      file: binaryPath(layout, "kube-controller-manager"),
      args: [
        `--kubeconfig=${join(layout.stateDir, "controller-manager.kubeconfig")}`,
        `--authentication-kubeconfig=${join(layout.stateDir, "controller-manager.kubeconfig")}`,
        `--authorization-kubeconfig=${join(layout.stateDir, "controller-manager.kubeconfig")}`,
        `--bind-address=${local}`,
        `--secure-port=${PORTS.controllerManager}`,
        `--service-account-private-key-file=${pki("sa.key")}`,
        `--root-ca-file=${pki("ca.crt")}`,
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        "--profiling=false",
      ],
      health: { url: `https://${local}:${PORTS.controllerManager}/healthz` },
    },
    {
      name: "kube-scheduler",
      file: binaryPath(layout, "kube-scheduler"),
      args: [
        `--kubeconfig=${join(layout.stateDir, "scheduler.kubeconfig")}`,
        `--authentication-kubeconfig=${join(layout.stateDir, "scheduler.kubeconfig")}`,
        `--authorization-kubeconfig=${join(layout.stateDir, "scheduler.kubeconfig")}`,
        `--bind-address=${local}`,
        `--secure-port=${PORTS.scheduler}`,
        "--leader-elect=false",
        "--profiling=false",
      ],
      health: { url: `https://${local}:${PORTS.scheduler}/healthz` },
    },
    {
      name: "kubelet",
      file: binaryPath(layout, "kubelet"),
      args: [
        `--config=${join(layout.stateDir, "kubelet.yaml")}`,
        `--kubeconfig=${join(layout.stateDir, "kubelet.kubeconfig")}`,
        `--root-dir=${layout.kubeletRootDir}`,
        `--hostname-override=${NODE_NAME}`,
        // The kubelet refuses a loopback node IP; the pods' bridge address is this host's and reaches nothing else.
        `--node-ip=${BRIDGE_ADDRESS}`,
      ],
      health: { url: `http://${local}:${PORTS.kubeletHealthz}/healthz` },
    },
  ];
}
