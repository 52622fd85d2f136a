// The pure parts of recording and restoring the host: chain names and jumps in `iptables
// -S` output (as iptables prints it: comments quoted, quotes inside escaped), and mount
// points under the cluster's folders in /proc/self/mountinfo.
import { describe, expect, it } from "vitest";
import { deletionsOfJumps, mountsUnder, parseChainNames } from "./host-changes.ts";

// A filter table before the cluster (Docker's chains), and after it (the kubelet's and the CNI firewall plugin's).
const FILTER_BEFORE = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-ISOLATION-STAGE-1
-N DOCKER-ISOLATION-STAGE-2
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
`;
const FILTER_AFTER = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N CNI-ADMIN
-N CNI-FORWARD
-N DOCKER
-N DOCKER-ISOLATION-STAGE-1
-N DOCKER-ISOLATION-STAGE-2
-N DOCKER-USER
-N KUBE-FIREWALL
-N KUBE-KUBELET-CANARY
-A INPUT -j KUBE-FIREWALL
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A OUTPUT -j KUBE-FIREWALL
-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
-A CNI-FORWARD -d 10.247.0.39/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A CNI-FORWARD -s 10.247.0.39/32 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j KUBE-FIREWALL
-A DOCKER-USER -j RETURN
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
`;
// A nat table with the CNI bridge plugin's masquerade chain (its comment holds escaped quotes) and kube-proxy's.
const NAT_AFTER = `-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N CNI-3f1b6a2c5d0e9f8a7b6c5d4e
-N KUBE-KUBELET-CANARY
-N KUBE-SERVICES
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -s 10.247.0.39/32 -m comment --comment "name: \\"sidecar-bench\\" id: \\"0f3c9a1b2e\\"" -j CNI-3f1b6a2c5d0e9f8a7b6c5d4e
-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE
-A CNI-3f1b6a2c5d0e9f8a7b6c5d4e -d 10.247.0.0/24 -m comment --comment "name: \\"sidecar-bench\\" id: \\"0f3c9a1b2e\\"" -j ACCEPT
-A CNI-3f1b6a2c5d0e9f8a7b6c5d4e ! -d 224.0.0.0/4 -m comment --comment "name: \\"sidecar-bench\\" id: \\"0f3c9a1b2e\\"" -j MASQUERADE
-A KUBE-SERVICES -d 10.248.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
`;

describe("parseChainNames", () => {
  it("the user-defined chains (-N), not the built-in policies (-P) or rules", () => {
    expect(parseChainNames(FILTER_BEFORE)).toEqual(["DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-USER"]);
    expect(parseChainNames(NAT_AFTER)).toEqual(["CNI-3f1b6a2c5d0e9f8a7b6c5d4e", "KUBE-KUBELET-CANARY", "KUBE-SERVICES"]);
    expect(parseChainNames("")).toEqual([]);
  });

  it("what the cluster added is the difference of the two listings", () => {
    const before = new Set(parseChainNames(FILTER_BEFORE));
    expect(parseChainNames(FILTER_AFTER).filter((c) => !before.has(c))).toEqual(["CNI-ADMIN", "CNI-FORWARD", "KUBE-FIREWALL", "KUBE-KUBELET-CANARY"]);
  });
});

describe("deletionsOfJumps", () => {
  it("deletes every jump from a built-in or kept chain into an added chain, as -D with the rule's own words", () => {
    const added = new Set(["CNI-ADMIN", "CNI-FORWARD", "KUBE-FIREWALL", "KUBE-KUBELET-CANARY"]);
    expect(deletionsOfJumps(FILTER_AFTER, added)).toEqual([
      ["-D", "INPUT", "-j", "KUBE-FIREWALL"],
      ["-D", "FORWARD", "-m", "comment", "--comment", "CNI firewall plugin rules", "-j", "CNI-FORWARD"],
      ["-D", "OUTPUT", "-j", "KUBE-FIREWALL"],
      ["-D", "DOCKER-USER", "-j", "KUBE-FIREWALL"],
    ]);
  });

  it("keeps quotes inside a comment as one argument, unescaped, as iptables -D needs it", () => {
    expect(deletionsOfJumps(NAT_AFTER, new Set(["CNI-3f1b6a2c5d0e9f8a7b6c5d4e", "KUBE-KUBELET-CANARY", "KUBE-SERVICES"]))).toEqual([
      ["-D", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"],
      ["-D", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"],
      ["-D", "POSTROUTING", "-s", "10.247.0.39/32", "-m", "comment", "--comment", 'name: "sidecar-bench" id: "0f3c9a1b2e"', "-j", "CNI-3f1b6a2c5d0e9f8a7b6c5d4e"],
    ]);
  });

  it("nothing when no rule jumps to an added chain (rules inside added chains go with their chain)", () => {
    expect(deletionsOfJumps(FILTER_AFTER, new Set(["DOCKER-NOT-THERE"]))).toEqual([]);
    expect(deletionsOfJumps(FILTER_BEFORE, new Set())).toEqual([]);
  });
});

// /proc/self/mountinfo lines: (4) is the mount point, with spaces and such as octal escapes.
const MOUNTINFO = [
  "100 27 254:0 /var/lib/sidecar-bench/cluster/kubelet /var/lib/sidecar-bench/cluster/kubelet rw,relatime shared:5 - ext4 /dev/vda rw,discard",
  "24 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "310 100 0:88 / /var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~empty-dir/tmp-0 rw,relatime shared:140 - tmpfs tmpfs rw",
  "311 100 0:89 / /var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~configmap/config rw,relatime shared:141 - tmpfs tmpfs rw,size=65536k",
  "312 25 0:90 / /run/sidecar-bench-cluster/containerd/io.containerd.grpc.v1.cri/sandboxes/fc36ed19/shm rw,nosuid,nodev,noexec,relatime shared:142 - tmpfs shm rw,size=65536k",
  "313 25 0:91 / /run/sidecar-bench-cluster/containerd/io.containerd.runtime.v2.task/k8s.io/4cbe3d25/rootfs rw,relatime shared:143 - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c",
  "314 100 0:92 / /var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~empty-dir/with\\040space rw,relatime - tmpfs tmpfs rw",
  "315 25 0:93 / /run/sidecar-bench-cluster-other/x rw,relatime - tmpfs tmpfs rw",
  "316 25 0:94 / /run/docker/netns/default rw - nsfs nsfs rw",
  "317 100 0:88 / /var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~empty-dir/tmp-0 rw,relatime shared:140 - tmpfs tmpfs rw",
  "",
].join("\n");

describe("mountsUnder", () => {
  const roots = ["/var/lib/sidecar-bench/cluster/kubelet", "/run/sidecar-bench-cluster"];

  it("mount points under the roots and the roots themselves, once each, unescaped", () => {
    expect(new Set(mountsUnder(MOUNTINFO, roots))).toEqual(
      new Set([
        "/var/lib/sidecar-bench/cluster/kubelet",
        "/var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~empty-dir/tmp-0",
        "/var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~configmap/config",
        "/var/lib/sidecar-bench/cluster/kubelet/pods/5d1c/volumes/kubernetes.io~empty-dir/with space",
        "/run/sidecar-bench-cluster/containerd/io.containerd.grpc.v1.cri/sandboxes/fc36ed19/shm",
        "/run/sidecar-bench-cluster/containerd/io.containerd.runtime.v2.task/k8s.io/4cbe3d25/rootfs",
      ]),
    );
  });

  it("not a sibling whose name merely starts like a root", () => {
    expect(mountsUnder(MOUNTINFO, roots)).not.toContain("/run/sidecar-bench-cluster-other/x");
  });

  it("every mount before the mounts it is nested in (unmounted first)", () => {
    const points = mountsUnder(MOUNTINFO, roots);
    for (const [i, point] of points.entries()) {
      for (const later of points.slice(i + 1)) expect(later.startsWith(`${point}/`)).toBe(false);
    }
  });

  it("nothing when nothing is mounted there", () => {
    expect(mountsUnder(MOUNTINFO, ["/srv/elsewhere"])).toEqual([]);
    expect(mountsUnder("", roots)).toEqual([]);
  });
});
