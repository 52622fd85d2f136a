// How the engine publishes a pod's ports on this host, for the environment fingerprint:
// through a docker-proxy process per port (the engine's default "userland proxy", one
// more user-space hop on every request) or by the kernel's NAT (dockerd
// --userland-proxy=false). The engine does not say; a docker-proxy process serving the
// port on this host does.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export type PortPublishing = "docker-proxy (userland proxy)" | "kernel NAT (no userland proxy)";

/** The argument vectors of this host's processes. */
function* commandLines(procRoot: string): Generator<string[]> {
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      yield readFileSync(join(procRoot, entry, "cmdline"), "utf8").split("\0");
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
}

export function portPublishingOf(hostPort: number, procRoot = "/proc"): PortPublishing {
  for (const args of commandLines(procRoot)) {
    if (!args[0]?.endsWith("docker-proxy")) continue;
    const at = args.indexOf("-host-port");
    if (at !== -1 && args[at + 1] === String(hostPort)) return "docker-proxy (userland proxy)";
  }
  return "kernel NAT (no userland proxy)";
}

/**
 * Before any pod runs (doctor): whether the engine on this host was started with the
 * userland proxy — dockerd's command line, else /etc/docker/daemon.json, else Docker's
 * default (on). Null when no dockerd process is visible here.
 */
export function engineUsesUserlandProxy(procRoot = "/proc", daemonJson = "/etc/docker/daemon.json"): boolean | null {
  for (const args of commandLines(procRoot)) {
    if (!args[0]?.endsWith("dockerd")) continue;
    const flag = args.find((arg) => arg.startsWith("--userland-proxy"));
    if (flag) return !/^--userland-proxy=false$/.test(flag);
    try {
      if (existsSync(daemonJson)) {
        const config = JSON.parse(readFileSync(daemonJson, "utf8")) as { "userland-proxy"?: unknown };
        if (typeof config["userland-proxy"] === "boolean") return config["userland-proxy"];
      }
    } catch {
      // An unreadable daemon.json: the engine's default then.
    }
    return true;
  }
  return null;
}
