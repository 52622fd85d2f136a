// The cluster's configuration files and command lines, read back as the daemons read them:
// the containerd TOML by table, the CNI conflist and kubelet configuration as JSON/YAML.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BRIDGE_ADDRESS, BRIDGE_NAME, clusterLayout, NODE_NAME, POD_SUBNET, PORTS, SERVICE_SUBNET } from "./cluster-layout.ts";
import { CONTAINER_LOG_MAX_FILES, CONTAINER_LOG_MAX_SIZE, cniConfig, containerdConfig, daemonCommands, kubeletConfig, type DaemonCommand } from "./cluster-configs.ts";

const layout = clusterLayout({ stateDir: "/srv/sb/state", cacheDir: "/srv/sb/cache" });

/** The TOML subset the containerd config uses: [tables] and key = "string" | number | boolean. */
function tomlTables(text: string): Map<string, Record<string, string | number | boolean>> {
  const tables = new Map<string, Record<string, string | number | boolean>>([["", {}]]);
  let current = tables.get("")!;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const table = /^\[(.+)\]$/.exec(line);
    if (table) {
      tables.set(table[1]!, (current = {}));
      continue;
    }
    const pair = /^(\w+) = (.+)$/.exec(line);
    if (!pair) throw new Error(`not TOML this parser knows: ${line}`);
    const value = pair[2]!;
    current[pair[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value === "true" || value === "false" ? value === "true" : Number(value);
  }
  return tables;
}

describe("containerdConfig", () => {
  const tables = tomlTables(containerdConfig(layout, "sidecar-bench/pause:1f53f0f6ac96"));
  const cri = 'plugins."io.containerd.grpc.v1.cri"';

  it("an instance of its own: root, state and sockets under the cluster's folders", () => {
    expect(tables.get("")).toMatchObject({ version: 2, root: layout.containerdRootDir, state: layout.containerdStateDir });
    expect(tables.get("grpc")).toEqual({ address: layout.containerdSocket });
    expect(tables.get("ttrpc")).toEqual({ address: `${layout.containerdSocket}.ttrpc` });
    expect(layout.containerdSocket).toBe("/run/sidecar-bench-cluster/containerd.sock");
    expect(layout.containerdRootDir.startsWith("/srv/sb/state/")).toBe(true);
  });

  it("CRI: restrict_oom_score_adj (root without CAP_SYS_RESOURCE), the project's pause image, runc with cgroupfs, the cluster's CNI folder", () => {
    expect(tables.get(cri)).toMatchObject({ restrict_oom_score_adj: true, sandbox_image: "sidecar-bench/pause:1f53f0f6ac96" });
    expect(tables.get(`${cri}.containerd`)).toMatchObject({ snapshotter: "overlayfs", default_runtime_name: "runc" });
    expect(tables.get(`${cri}.containerd.runtimes.runc`)).toEqual({ runtime_type: "io.containerd.runc.v2" });
    expect(tables.get(`${cri}.containerd.runtimes.runc.options`)).toEqual({ SystemdCgroup: false, Root: "/run/sidecar-bench-cluster/runc" });
    expect(tables.get(`${cri}.cni`)).toEqual({ bin_dir: "/usr/lib/cni", conf_dir: layout.cniConfDir });
  });
});

describe("cniConfig", () => {
  const conflist = JSON.parse(cniConfig(layout)) as { cniVersion: string; name: string; plugins: Array<Record<string, unknown>> };

  it("a bridge of its own holding the gateway address, pods on the pod subnet", () => {
    const bridge = conflist.plugins[0]!;
    expect(bridge).toMatchObject({ type: "bridge", bridge: BRIDGE_NAME, isGateway: true, hairpinMode: true });
    expect(bridge["ipam"]).toEqual({ type: "host-local", ranges: [[{ subnet: POD_SUBNET }]], routes: [], dataDir: layout.cniIpamDir });
    expect(BRIDGE_ADDRESS).toBe("10.247.0.1");
    expect(POD_SUBNET).toBe("10.247.0.0/24");
  });

  it("no default route and no masquerade: a pod reaches this host's pods and nothing beyond", () => {
    const bridge = conflist.plugins[0]!;
    expect(bridge["isDefaultGateway"]).toBe(false);
    expect(bridge["ipMasq"]).toBe(false);
    expect(JSON.stringify(conflist)).not.toContain("0.0.0.0/0");
  });

  it("the firewall plugin after the bridge (Docker's FORWARD policy is DROP)", () => {
    expect(conflist.plugins.map((p) => p["type"])).toEqual(["bridge", "firewall"]);
    expect(conflist.plugins[1]).toEqual({ type: "firewall", backend: "iptables" });
    expect(conflist.cniVersion).toBe("0.4.0");
  });
});

describe("kubeletConfig", () => {
  const config = parse(kubeletConfig(layout)) as Record<string, unknown>;

  it("serves on an address of this host that reaches no other (loopback or the pods' bridge), health on 127.0.0.1, no read-only port, no anonymous access", () => {
    expect(config).toMatchObject({ kind: "KubeletConfiguration", apiVersion: "kubelet.config.k8s.io/v1beta1", port: PORTS.kubelet, readOnlyPort: 0, healthzBindAddress: "127.0.0.1", healthzPort: PORTS.kubeletHealthz });
    expect(["127.0.0.1", BRIDGE_ADDRESS]).toContain(config["address"]);
    expect(config["authentication"]).toMatchObject({ anonymous: { enabled: false }, x509: { clientCAFile: "/srv/sb/state/pki/ca.crt" } });
    expect([config["tlsCertFile"], config["tlsPrivateKeyFile"]]).toEqual(["/srv/sb/state/pki/kubelet-serving.crt", "/srv/sb/state/pki/kubelet-serving.key"]);
  });

  it("the cluster's containerd, cgroupfs, container logs rotated at the kubelet's own default size", () => {
    expect(config).toMatchObject({ containerRuntimeEndpoint: `unix://${layout.containerdSocket}`, cgroupDriver: "cgroupfs", containerLogMaxSize: "10Mi", containerLogMaxFiles: 2, staticPodPath: "" });
    expect([CONTAINER_LOG_MAX_SIZE, CONTAINER_LOG_MAX_FILES]).toEqual([config["containerLogMaxSize"], config["containerLogMaxFiles"]]);
  });
});

describe("daemonCommands", () => {
  const commands = daemonCommands(layout);
  const byName = (name: DaemonCommand["name"]) => commands.find((c) => c.name === name)!;
  const flag = (command: DaemonCommand, name: string) => command.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

  it("every daemon, in start order", () => {
    expect(commands.map((c) => c.name)).toEqual(["etcd", "containerd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"]);
  });

  it("every address a daemon listens on or advertises is 127.0.0.1 (the kubelet's node IP is the pod bridge's)", () => {
    for (const command of commands) {
      for (const arg of command.args) {
        expect(arg).not.toMatch(/0\.0\.0\.0|::/);
        for (const address of arg.match(/\d+\.\d+\.\d+\.\d+(?=[:/]|$)/g) ?? []) {
          if (arg.startsWith("--service-cluster-ip-range=")) continue;
          expect([command.name, address]).toEqual([command.name, arg === `--node-ip=${BRIDGE_ADDRESS}` ? BRIDGE_ADDRESS : "127.0.0.1"]);
        }
      }
      if ("url" in command.health) expect(new URL(command.health.url).hostname).toBe("127.0.0.1");
    }
    for (const name of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const) expect(flag(byName(name), "bind-address")).toBe("127.0.0.1");
  });

  it("the API server: etcd on loopback, its certificates, Node and RBAC authorization, service-account keys, no watch cache", () => {
    const apiserver = byName("kube-apiserver");
    expect(flag(apiserver, "etcd-servers")).toBe(`http://127.0.0.1:${PORTS.etcdClient}`);
    expect(flag(apiserver, "secure-port")).toBe(String(PORTS.apiserver));
    expect(flag(apiserver, "service-cluster-ip-range")).toBe(SERVICE_SUBNET);
    expect(flag(apiserver, "authorization-mode")).toBe("Node,RBAC");
    expect(flag(apiserver, "client-ca-file")).toBe("/srv/sb/state/pki/ca.crt");
    expect([flag(apiserver, "tls-cert-file"), flag(apiserver, "tls-private-key-file")]).toEqual(["/srv/sb/state/pki/apiserver.crt", "/srv/sb/state/pki/apiserver.key"]);
    expect([flag(apiserver, "kubelet-client-certificate"), flag(apiserver, "kubelet-client-key")]).toEqual(["/srv/sb/state/pki/apiserver-kubelet-client.crt", "/srv/sb/state/pki/apiserver-kubelet-client.key"]);
    expect([flag(apiserver, "service-account-key-file"), flag(apiserver, "service-account-signing-key-file")]).toEqual(["/srv/sb/state/pki/sa.pub", "/srv/sb/state/pki/sa.key"]);
    expect(flag(apiserver, "service-account-issuer")).toBe("https://kubernetes.default.svc");
    expect(flag(apiserver, "allow-privileged")).toBe("true");
    expect(flag(apiserver, "watch-cache")).toBe("false");
    expect(apiserver.health).toEqual({ url: `https://127.0.0.1:${PORTS.apiserver}/readyz` });
    expect(apiserver.file).toBe("/srv/sb/cache/kubernetes/v1.34.4/bin/kube-apiserver");
  });

  it("the controller manager signs service-account tokens with the key the API server checks them with", () => {
    const controllerManager = byName("kube-controller-manager");
    expect(flag(controllerManager, "service-account-private-key-file")).toBe(flag(byName("kube-apiserver"), "service-account-signing-key-file"));
    expect(flag(controllerManager, "root-ca-file")).toBe(flag(byName("kube-apiserver"), "client-ca-file"));
  });

  it("the kubelet: its config file, the node name the Node authorizer expects, the pod bridge as node IP", () => {
    const kubelet = byName("kubelet");
    expect(flag(kubelet, "config")).toBe("/srv/sb/state/kubelet.yaml");
    expect(flag(kubelet, "hostname-override")).toBe(NODE_NAME);
    expect(flag(kubelet, "node-ip")).toBe(BRIDGE_ADDRESS);
    expect(flag(kubelet, "root-dir")).toBe(layout.kubeletRootDir);
  });

  it("containerd is ready when its socket exists", () => {
    expect(byName("containerd")).toMatchObject({ args: ["--config", "/srv/sb/state/containerd.toml"], health: { socket: layout.containerdSocket } });
  });
});
