import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { allocatePodPorts, allocatePort, ephemeralRangeStart } from "./port-allocator.ts";

describe("port allocator", () => {
  it("reads the start of the kernel's ephemeral range, with Linux's default when it cannot", () => {
    expect(ephemeralRangeStart("32768\t60999\n")).toBe(32_768);
    expect(ephemeralRangeStart("1024 65000")).toBe(1_024);
    expect(ephemeralRangeStart("")).toBe(32_768);
    expect(ephemeralRangeStart("garbage")).toBe(32_768);
  });

  it("picks ports below the ephemeral range, where no outgoing connection takes them, and bindable", async () => {
    const start = ephemeralRangeStart();
    for (let i = 0; i < 20; i++) {
      const port = await allocatePort();
      if (start > 20_001) expect(port).toBeLessThan(start);
      await new Promise<void>((resolve, reject) => {
        const server = createServer().once("error", reject);
        server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve()));
      });
    }
  });

  it("gives every named port of a pod its own number", async () => {
    const ports = await allocatePodPorts([
      { name: "a", ports: { http: 1, admin: 2 } },
      { name: "b", ports: { http: 1 } },
    ]);
    const numbers = [ports.a!.http!, ports.a!.admin!, ports.b!.http!];
    expect(new Set(numbers).size).toBe(3);
  });
});
