// The Debian packages a cluster on this machine runs on: containerd and runc (the
// container runtime), the CNI plugins (bridge, host-local), etcd, iptables and conntrack
// (the kubelet's), openssl (certificates). Installed with apt-get when missing and this
// is root on Debian; otherwise the error names the command to run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const REQUIRED: Array<{ package: string; provides: string }> = [
  { package: "containerd", provides: "/usr/bin/containerd" },
  { package: "containerd", provides: "/usr/bin/ctr" },
  { package: "runc", provides: "/usr/sbin/runc" },
  { package: "containernetworking-plugins", provides: "/usr/lib/cni/bridge" },
  { package: "etcd-server", provides: "/usr/bin/etcd" },
  { package: "iptables", provides: "/usr/sbin/iptables" },
  { package: "conntrack", provides: "/usr/sbin/conntrack" },
  { package: "openssl", provides: "/usr/bin/openssl" },
  { package: "iproute2", provides: "/usr/sbin/ip" },
];
const APT_TIMEOUT_MS = 10 * 60_000;

export class HostPackagesError extends Error {
  override name = "HostPackagesError";
}

export function missingPackages(exists: (path: string) => boolean = existsSync): string[] {
  return [...new Set(REQUIRED.filter((r) => !exists(r.provides)).map((r) => r.package))];
}

export function ensureHostPackages(say: (line: string) => void): string[] {
  const missing = missingPackages();
  if (missing.length === 0) return [];
  const command = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (process.getuid?.() !== 0 || spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0) {
    throw new HostPackagesError(`the cluster needs ${missing.join(", ")}; install them as root: ${command}`);
  }
  say(`installing ${missing.join(", ")} (apt)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...missing]]) {
    const result = spawnSync("apt-get", args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", timeout: APT_TIMEOUT_MS });
    if (result.status !== 0) throw new HostPackagesError(`apt-get ${args.join(" ")} failed: ${(result.stderr ?? "").trim().split("\n").slice(-3).join("; ")}`);
  }
  const still = missingPackages();
  if (still.length > 0) throw new HostPackagesError(`after apt-get install, still missing: ${still.join(", ")}`);
  return missing;
}
