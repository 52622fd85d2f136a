// Free loopback ports for a pod's named ports. The kernel picks (bind to port 0);
// a port is released just before the container binds it, so a tiny race with other
// programs remains — the startup probe catches a lost race as a clear start failure.
import { createServer } from "node:net";

export async function allocatePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error("no port allocated"))));
    });
  });
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
