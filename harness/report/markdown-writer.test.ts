import { describe, expect, it } from "vitest";
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import { environmentRows } from "./markdown-writer.ts";

const local: EnvironmentFingerprint = {
  cpuModel: "Test CPU",
  cores: 2,
  memoryGiB: 3.8,
  os: "Linux Debian",
  kernel: "6.1.0",
  node: "v20.20.2",
  python: "Python 3.11.7",
  envoy: "1.40.0",
  loadGenerator: "sidecar-bench open loop (undici)",
  harnessVersion: "sidecar-bench 0.1.0",
  scenarioSha256: "0".repeat(64),
  runtime: "local",
  accounting: "cgroup-v1",
  pinning: "none",
};

describe("report.md environment rows", () => {
  it("local: the runtime and its accounting, no engine and no images row", () => {
    const rows = new Map(environmentRows(local));
    expect(rows.get("runtime / accounting")).toBe("local / cgroup-v1");
    expect(rows.has("images")).toBe(false);
  });

  it("docker: the engine version beside the runtime, and each image with its short id", () => {
    const rows = environmentRows({
      ...local,
      runtime: "docker",
      accounting: "docker",
      engineVersion: "20.10.24+dfsg1",
      images: { "sidecar-bench/primary-fastapi:latest": "sha256:7cfae3d7999b1234567890", "envoyproxy/envoy:v1.40.0": "sha256:c58256447a3c0987654321" },
    });
    expect(rows.map(([label]) => label)).toEqual(["CPU", "memory", "OS / kernel", "node / python / envoy", "runtime / accounting", "images", "load generator", "pinning", "harness"]);
    const byLabel = new Map(rows);
    expect(byLabel.get("runtime / accounting")).toBe("docker (engine 20.10.24+dfsg1) / docker");
    expect(byLabel.get("images")).toBe("sidecar-bench/primary-fastapi:latest (7cfae3d7999b), envoyproxy/envoy:v1.40.0 (c58256447a3c)");
  });

  it("docker: how the engine published the ports, when a pod with ports ran", () => {
    const rows = new Map(environmentRows({ ...local, runtime: "docker", accounting: "docker", engineVersion: "20.10.24+dfsg1", portPublishing: "kernel NAT (no userland proxy)" }));
    expect(rows.get("runtime / accounting")).toBe("docker (engine 20.10.24+dfsg1, ports via kernel NAT (no userland proxy)) / docker");
  });
});
