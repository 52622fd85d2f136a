// What running a kubelet changes on this host, recorded before `cluster up` and undone by
// `cluster down`: the kubelet sets vm.overcommit_memory, kernel.panic and
// kernel.panic_on_oops; the bridge plugin turns on IP forwarding; the kubelet adds
// iptables chains (KUBE-*); pods leave mounts (volumes, sandboxes' /dev/shm, overlay
// root filesystems), a bridge with its veths, network namespaces and cgroups (kubepods).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BRIDGE_NAME } from "./cluster-layout.ts";

/** Sysctls the kubelet and the CNI bridge plugin set. */
export const RECORDED_SYSCTLS = ["vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops", "net.ipv4.ip_forward"] as const;
const IPTABLES_TABLES = ["filter", "nat", "mangle"] as const;
/** The top-level cgroup the kubelet creates in every hierarchy (cgroupfs driver). */
const KUBEPODS_CGROUP = "kubepods";

export interface HostRecord {
  recordedAt: string;
  sysctls: Record<string, string>;
  /** Chains present before the cluster, per table (only chains the cluster adds are removed). */
  iptablesChains: Record<string, string[]>;
}

function sysctlPath(name: string): string {
  return join("/proc/sys", ...name.split("."));
}

export function readSysctl(name: string): string | null {
  try {
    return readFileSync(sysctlPath(name), "utf8").trim();
  } catch {
    return null;
  }
}

/** Chain names of one iptables table (`iptables -S` lines "-N NAME"); empty when iptables is missing. */
export function iptablesChains(table: string): string[] {
  const result = spawnSync("iptables", ["-t", table, "-S"], { encoding: "utf8" });
  if (result.status !== 0) return [];
  return parseChainNames(result.stdout);
}

export function parseChainNames(iptablesS: string): string[] {
  return iptablesS
    .split("\n")
    .filter((line) => line.startsWith("-N "))
    .map((line) => line.slice(3).trim());
}

export function recordHost(): HostRecord {
  const sysctls: Record<string, string> = {};
  for (const name of RECORDED_SYSCTLS) {
    const value = readSysctl(name);
    if (value !== null) sysctls[name] = value;
  }
  return {
    recordedAt: new Date().toISOString(),
    sysctls,
    iptablesChains: Object.fromEntries(IPTABLES_TABLES.map((table) => [table, iptablesChains(table)])),
  };
}

/** Keeps the first record: a second `up` without `down` must not take the cluster's changes for the host's own. */
export function saveHostRecord(file: string): HostRecord {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as HostRecord;
  const record = recordHost();
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

export interface RestoreReport {
  sysctls: string[];
  iptablesChains: string[];
  mounts: string[];
  bridge: boolean;
  cgroups: number;
  networkNamespaces: string[];
  problems: string[];
}

/** Mount points under any of `roots`, deepest first (so nested mounts go before their parents). */
export function mountsUnder(mountinfo: string, roots: readonly string[]): string[] {
  const points = mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined && roots.some((root) => point === root || point.startsWith(`${root}/`)))
    // mountinfo escapes spaces and such as octal.
    .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export function unmountUnder(roots: readonly string[], report: RestoreReport): void {
  // Unmounting one may reveal or take others: read again until nothing is left or nothing moves.
  for (let pass = 0; pass < 5; pass++) {
    const points = mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), roots);
    if (points.length === 0) return;
    for (const point of points) {
      const result = spawnSync("umount", ["--lazy", point], { encoding: "utf8" });
      if (result.status === 0) report.mounts.push(point);
    }
  }
  const left = mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), roots);
  if (left.length > 0) report.problems.push(`could not unmount: ${left.slice(0, 5).join(", ")}${left.length > 5 ? ` and ${left.length - 5} more` : ""}`);
}

function removeCgroupTree(dir: string): number {
  if (!existsSync(dir)) return 0;
  let removed = 0;
  for (const entry of readdirSync(dir)) {
    const child = join(dir, entry);
    if (statSync(child).isDirectory()) removed += removeCgroupTree(child);
  }
  try {
    rmdirSync(dir);
    removed++;
  } catch {
    // A cgroup with a live process cannot go; reported by the caller if kubepods is left.
  }
  return removed;
}

export function restoreHost(record: HostRecord | null, mountRoots: readonly string[]): RestoreReport {
  const report: RestoreReport = { sysctls: [], iptablesChains: [], mounts: [], bridge: false, cgroups: 0, networkNamespaces: [], problems: [] };
  unmountUnder(mountRoots, report);

  // Network namespaces of sandboxes that were not torn down through the CNI (a killed containerd).
  if (existsSync("/run/netns")) {
    for (const name of readdirSync("/run/netns").filter((n) => n.startsWith("cni-"))) {
      if (spawnSync("ip", ["netns", "delete", name]).status === 0) report.networkNamespaces.push(name);
    }
  }
  if (spawnSync("ip", ["link", "show", BRIDGE_NAME], { stdio: "ignore" }).status === 0) {
    report.bridge = spawnSync("ip", ["link", "delete", BRIDGE_NAME]).status === 0;
    if (!report.bridge) report.problems.push(`could not delete the bridge ${BRIDGE_NAME}`);
  }

  for (const hierarchy of existsSync("/sys/fs/cgroup") ? readdirSync("/sys/fs/cgroup") : []) {
    report.cgroups += removeCgroupTree(join("/sys/fs/cgroup", hierarchy, KUBEPODS_CGROUP));
    if (existsSync(join("/sys/fs/cgroup", hierarchy, KUBEPODS_CGROUP))) report.problems.push(`cgroup ${hierarchy}/${KUBEPODS_CGROUP} still has processes`);
  }
  // cgroup v2: a single hierarchy, where kubepods sits at the top.
  if (existsSync(join("/sys/fs/cgroup", KUBEPODS_CGROUP, "cgroup.procs"))) report.cgroups += removeCgroupTree(join("/sys/fs/cgroup", KUBEPODS_CGROUP));

  if (record) {
    for (const [name, value] of Object.entries(record.sysctls)) {
      if (readSysctl(name) === value) continue;
      try {
        writeFileSync(sysctlPath(name), value);
        report.sysctls.push(`${name}=${value}`);
      } catch (error) {
        report.problems.push(`could not restore ${name}=${value}: ${(error as Error).message}`);
      }
    }
    for (const table of IPTABLES_TABLES) {
      const before = new Set(record.iptablesChains[table] ?? []);
      const added = iptablesChains(table).filter((chain) => !before.has(chain));
      // Rules jumping to a chain must go before the chain: flush every added chain, then delete.
      for (const chain of added) spawnSync("iptables", ["-t", table, "-F", chain]);
      for (const rule of rulesJumpingTo(table, new Set(added))) spawnSync("iptables", ["-t", table, ...rule]);
      for (const chain of added) {
        if (spawnSync("iptables", ["-t", table, "-X", chain]).status === 0) report.iptablesChains.push(`${table}/${chain}`);
        else report.problems.push(`could not delete iptables chain ${table}/${chain}`);
      }
    }
  }
  return report;
}

/** `-D …` arguments for every rule in a built-in or kept chain that jumps to one of `chains`. */
function rulesJumpingTo(table: string, chains: Set<string>): string[][] {
  if (chains.size === 0) return [];
  const listing = execFileSync("iptables", ["-t", table, "-S"], { encoding: "utf8" });
  return deletionsOfJumps(listing, chains);
}

export function deletionsOfJumps(iptablesS: string, chains: Set<string>): string[][] {
  const deletions: string[][] = [];
  for (const line of iptablesS.split("\n")) {
    if (!line.startsWith("-A ")) continue;
    const words = line.split(" ");
    const target = words[words.indexOf("-j") + 1];
    if (words.includes("-j") && target && chains.has(target) && !chains.has(words[1]!)) deletions.push(["-D", ...splitRule(line.slice(3))]);
  }
  return deletions;
}

/** iptables -S quotes comments ("-m comment --comment \"kubernetes …\""): split respecting quotes. */
function splitRule(rule: string): string[] {
  const words: string[] = [];
  for (const match of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(match[1] !== undefined ? match[1].replace(/\\"/g, '"') : match[2]!);
  return words;
}
