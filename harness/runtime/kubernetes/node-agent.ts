// What the harness does from the node itself, when it runs on the node its pods run on
// (the project's own cluster; any node with a reachable CRI socket): it asks the container
// runtime through CRI (crictl inspect) for each container's process, signals it with
// kill(2) from the node — which is what the runtime's own task kill does — and reads CPU
// and memory from that process's cgroup, as the other runtimes read theirs.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { promisify } from "node:util";
import { cgroupReaderFor, type CgroupReader } from "../docker/docker-cgroup-stats.ts";
import { detectCgroupLayout } from "../local/cgroup.ts";

const run = promisify(execFile);
const INSPECT_TIMEOUT_MS = 15_000;

export interface NodeAgentOptions {
  crictl: string;
  /** unix:///… of the node's CRI socket. */
  runtimeEndpoint: string;
}

export interface ContainerProcess {
  containerId: string;
  /** The container's first process, as this host numbers it. */
  pid: number;
}

export class NodeAgent {
  private readonly layout = detectCgroupLayout();

  constructor(private readonly options: NodeAgentOptions) {}

  /** How resources are read, for reports. */
  accounting(): string {
    return this.layout ? `${this.layout.version} (the node's container cgroups)` : "kubelet";
  }

  cgroupVersion(): "cgroup-v1" | "cgroup-v2" | null {
    return this.layout?.version ?? null;
  }

  /** The process of a running container (CRI ContainerStatus, verbose). */
  async process(containerId: string): Promise<ContainerProcess> {
    const id = containerId.replace(/^[a-z]+:\/\//, "");
    const { stdout } = await run(this.options.crictl, ["--runtime-endpoint", this.options.runtimeEndpoint, "inspect", "--output", "json", id], {
      timeout: INSPECT_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    const info = (JSON.parse(stdout) as { info?: { pid?: number } }).info;
    if (!info?.pid) throw new Error(`crictl inspect ${id.slice(0, 12)}: no pid (the container is not running)`);
    return { containerId: id, pid: info.pid };
  }

  cgroupReader(pid: number): CgroupReader | null {
    return cgroupReaderFor(pid, this.layout);
  }
}

/** crictl and a CRI socket on this machine, or null when the harness is not on a node it can reach this way. */
export function findNodeAgent(candidates: Array<{ crictl: string; socket: string }>): { agent: NodeAgent; socket: string } | null {
  for (const { crictl, socket } of candidates) {
    if (existsSync(crictl) && existsSync(socket)) return { agent: new NodeAgent({ crictl, runtimeEndpoint: `unix://${socket}` }), socket };
  }
  return null;
}

/**
 * True when `address` is one of this machine's own (the node the pods run on is this one).
 * `ip` lists addresses of interfaces that are down as well (a pod bridge without pods is
 * down), which Node's networkInterfaces() leaves out.
 */
export function isLocalAddress(address: string): boolean {
  const listing = spawnSync("ip", ["-o", "address", "show"], { encoding: "utf8" });
  if (listing.status === 0 && parseAddresses(listing.stdout).has(address)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === address));
}

/** Addresses in `ip -o address show` output ("… inet 10.0.0.1/24 …"). */
export function parseAddresses(ipOutput: string): Set<string> {
  return new Set([...ipOutput.matchAll(/\binet6? ([0-9a-fA-F.:]+)\//g)].map((m) => m[1]!));
}
