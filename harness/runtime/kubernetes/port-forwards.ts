// Forwarded ports through the API server (`kubectl port-forward`'s mechanism), for a
// harness that cannot reach pod addresses (not on the node, e.g. kind on a laptop): one
// listener on 127.0.0.1 per pod port, each accepted connection tunnelled on its own
// stream. Only conformance checks and probes-like requests go this way: the latency
// benchmark's generator runs in the cluster (its cost would swamp a sidecar's here).
import { createServer, type Server, type Socket } from "node:net";
import type { KubeConnection } from "./kube-connection.ts";

export class PortForwards {
  private readonly listeners = new Map<string, { server: Server; port: number }>();
  private readonly pending = new Map<string, Promise<number>>();
  private readonly ready = new Map<string, number>();

  constructor(private readonly connection: KubeConnection) {}

  /**
   * The local port forwarding to `port` of the pod, opened on first use. Synchronous for
   * StartedPod.url(): the listener must be open already (open() after the pod started).
   */
  localPort(namespace: string, pod: string, port: number): number {
    const local = this.ready.get(key(namespace, pod, port));
    if (local === undefined) throw new Error(`no forwarded port for ${namespace}/${pod}:${port}; open it first`);
    return local;
  }

  open(namespace: string, pod: string, port: number): Promise<number> {
    const id = key(namespace, pod, port);
    let opening = this.pending.get(id);
    if (!opening) {
      opening = new Promise<number>((resolve, reject) => {
        const server = createServer((socket: Socket) => {
          // A client that resets its connection (a request timed out) errors this socket; unheard, that would crash the harness.
          socket.on("error", () => socket.destroy());
          this.connection.portForward.portForward(namespace, pod, [port], socket, null, socket).then(
            (tunnel) => {
              // The pod's end closed (the API server ends the tunnel): end the client's connection too, rather than leave it open to nothing.
              if (typeof tunnel !== "function") tunnel.on("close", () => socket.end());
            },
            () => socket.destroy(),
          );
        });
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
          const address = server.address();
          const local = typeof address === "object" && address ? address.port : 0;
          this.listeners.set(id, { server, port: local });
          this.ready.set(id, local);
          resolve(local);
        });
      });
      this.pending.set(id, opening);
    }
    return opening;
  }

  /** Closes the pod's listeners (its connections end with it). */
  close(namespace: string, pod: string): void {
    for (const [id, listener] of this.listeners) {
      if (!id.startsWith(`${namespace}/${pod}:`)) continue;
      listener.server.close();
      this.listeners.delete(id);
      this.pending.delete(id);
      this.ready.delete(id);
    }
  }
}

function key(namespace: string, pod: string, port: number): string {
  return `${namespace}/${pod}:${port}`;
}
