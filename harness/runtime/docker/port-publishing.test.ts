import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineUsesUserlandProxy, portPublishingOf } from "./port-publishing.ts";

function procWith(processes: Record<string, string[]>): string {
  const root = mkdtempSync(join(tmpdir(), "sb-proc-"));
  for (const [pid, args] of Object.entries(processes)) {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, "cmdline"), `${args.join("\0")}\0`);
  }
  mkdirSync(join(root, "self"));
  return root;
}

describe("portPublishingOf", () => {
  it("finds the docker-proxy that serves the host port", () => {
    const proc = procWith({
      "10": ["/usr/sbin/dockerd", "--storage-driver=overlay2"],
      "11": ["/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "32768", "-container-ip", "172.18.0.2", "-container-port", "8000"],
    });
    expect(portPublishingOf(32768, proc)).toBe("docker-proxy (userland proxy)");
  });

  it("says kernel NAT when no docker-proxy serves that port", () => {
    const proc = procWith({
      "11": ["/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "32769", "-container-ip", "172.18.0.2", "-container-port", "8000"],
      "12": ["node", "-host-port", "32768"],
    });
    expect(portPublishingOf(32768, proc)).toBe("kernel NAT (no userland proxy)");
  });
});

describe("engineUsesUserlandProxy", () => {
  const noConfig = join(mkdtempSync(join(tmpdir(), "sb-daemon-")), "daemon.json");

  it("reads dockerd's flag", () => {
    expect(engineUsesUserlandProxy(procWith({ "5": ["/usr/sbin/dockerd", "--userland-proxy=false"] }), noConfig)).toBe(false);
    expect(engineUsesUserlandProxy(procWith({ "5": ["/usr/sbin/dockerd", "--userland-proxy=true"] }), noConfig)).toBe(true);
  });

  it("falls back to daemon.json, then to Docker's default (on), and says null without a dockerd here", () => {
    const config = join(mkdtempSync(join(tmpdir(), "sb-daemon-")), "daemon.json");
    writeFileSync(config, JSON.stringify({ "userland-proxy": false }));
    expect(engineUsesUserlandProxy(procWith({ "5": ["/usr/sbin/dockerd"] }), config)).toBe(false);
    expect(engineUsesUserlandProxy(procWith({ "5": ["/usr/sbin/dockerd"] }), noConfig)).toBe(true);
    expect(engineUsesUserlandProxy(procWith({ "5": ["node"] }), noConfig)).toBeNull();
  });
});
