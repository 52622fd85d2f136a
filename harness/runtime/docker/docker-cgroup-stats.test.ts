import { describe, expect, it } from "vitest";
import { cgroupPathOf, cgroupReaderFor } from "./docker-cgroup-stats.ts";

describe("cgroupPathOf", () => {
  it("takes the memory hierarchy's path on cgroup v1", () => {
    const text = ["12:cpu,cpuacct:/docker/abc", "4:memory:/docker/abc", "1:name=systemd:/docker/abc", ""].join("\n");
    expect(cgroupPathOf(text, "cgroup-v1")).toBe("/docker/abc");
  });

  it("takes the unified path on cgroup v2", () => {
    expect(cgroupPathOf("0::/system.slice/docker-abc.scope\n", "cgroup-v2")).toBe("/system.slice/docker-abc.scope");
  });

  it("finds nothing in an empty or foreign file", () => {
    expect(cgroupPathOf("", "cgroup-v1")).toBeNull();
    expect(cgroupPathOf("3:cpu:/x\n", "cgroup-v1")).toBeNull();
  });
});

describe("cgroupReaderFor", () => {
  it("gives no reader for a process whose cgroup cannot be read (gone, or the root cgroup)", () => {
    expect(cgroupReaderFor(0)).toBeNull();
    expect(cgroupReaderFor(2 ** 22 + 7)).toBeNull();
    // This test process sits in the root cgroup of its hierarchies (or has no layout): nothing per-container to read.
    expect(cgroupReaderFor(1, { version: "cgroup-v1", roots: { memory: "/nonexistent", cpu: "/nonexistent", cpuacct: "/nonexistent" } })).toBeNull();
  });
});
