// Free loopback ports for a pod's named ports. Chosen below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), from which every outgoing connection takes its source
// port: a port picked there (bind to port 0) and released for the container to bind can
// be taken meanwhile by any client connection on the machine — the load generators open
// thousands — and the container then fails with EADDRINUSE. Below the range only another
// program binding that very port can race us; the startup probe catches a lost race as a
// clear start failure.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { randomInt } from "node:crypto";

/** Lowest port handed out: above the well-known and the usual registered service ports. */
const LOWEST_PORT = 20_000;
const ATTEMPTS = 50;

/** The first port of the kernel's ephemeral range (32768 by default). */
export function ephemeralRangeStart(text = readRange()): number {
  const low = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(low) && low >= 1 && low <= 65_535 ? low : 32_768;
}

function readRange(): string {
  try {
    return readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
  } catch {
    return "";
  }
}

function tryBind(host: string, port: number): Promise<number | null> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolvePort(null));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(bound > 0 ? bound : null));
    });
  });
}

export async function allocatePort(host = "127.0.0.1"): Promise<number> {
  const highest = ephemeralRangeStart() - 1;
  if (highest > LOWEST_PORT) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const port = await tryBind(host, randomInt(LOWEST_PORT, highest + 1));
      if (port !== null) return port;
    }
  }
  // A range that leaves no room below it: the kernel's pick.
  const port = await tryBind(host, 0);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/** Allocates one distinct port per (container, port name). */
export async function allocatePodPorts(
  containers: Array<{ name: string; ports: Record<string, number> }>,
  host = "127.0.0.1",
): Promise<Record<string, Record<string, number>>> {
  const taken = new Set<number>();
  const result: Record<string, Record<string, number>> = {};
  for (const container of containers) {
    result[container.name] = {};
    for (const portName of Object.keys(container.ports)) {
      let port = await allocatePort(host);
      while (taken.has(port)) port = await allocatePort(host);
      taken.add(port);
      result[container.name]![portName] = port;
    }
  }
  return result;
}
