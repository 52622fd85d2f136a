// The pod's pause container ("sandbox"): it owns the network and PID namespaces the
// pod's containers join (`--network container:<id>`, `--pid container:<id>`), publishes every declared port on
// 127.0.0.1 at a free host port, and forwards those ports to the containers' loopback
// listeners (pod-forwarder.mjs). It starts first and is removed last.
import type Dockerode from "dockerode";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Wait } from "testcontainers";
import { PAUSE_IMAGE } from "./docker-images.ts";
import { PodContainer } from "./pod-container.ts";

const FORWARDER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "pod-forwarder.mjs");
const FORWARDER_TARGET = "/sidecar-bench/pod-forwarder.mjs";
const SANDBOX_START_TIMEOUT_MS = 30_000;

export interface SandboxOptions {
  name: string;
  network: string;
  ports: number[];
  labels: Record<string, string>;
  cpuSet?: number[];
}

export class PodSandbox {
  private constructor(
    readonly id: string,
    private readonly hostPorts: Map<number, number>,
  ) {}

  static async start(dockerode: Dockerode, options: SandboxOptions): Promise<PodSandbox> {
    let createdId = "";
    const container = new PodContainer(PAUSE_IMAGE)
      .withName(options.name)
      .withEntrypoint(["node"])
      .withCommand([FORWARDER_TARGET, ...options.ports.map(String)])
      .withBindMounts([{ source: FORWARDER_SOURCE, target: FORWARDER_TARGET, mode: "ro" }])
      .withLabels(options.labels)
      .withNetworkMode(options.network)
      .withLoopbackPorts(options.ports)
      .withCpuSet(options.cpuSet)
      .withWaitStrategy(Wait.forLogMessage("pod-forwarder: forwarding"))
      .withStartupTimeout(SANDBOX_START_TIMEOUT_MS)
      .withAutoRemove(false)
      .withAutoCleanup(false)
      .onCreated((id) => {
        createdId = id;
      });
    try {
      await container.start();
    } catch (error) {
      if (createdId) await dockerode.getContainer(createdId).remove({ force: true }).catch(() => undefined);
      throw new Error(`the pod's pause container did not start: ${(error as Error).message}`);
    }
    const inspect = await dockerode.getContainer(createdId).inspect();
    const hostPorts = new Map<number, number>();
    for (const port of options.ports) {
      const binding = inspect.NetworkSettings.Ports[`${port}/tcp`]?.find((b) => b.HostIp === "127.0.0.1");
      if (!binding) throw new Error(`the pod's pause container has no 127.0.0.1 binding for port ${port}`);
      hostPorts.set(port, Number(binding.HostPort));
    }
    return new PodSandbox(createdId, hostPorts);
  }

  get networkMode(): string {
    return `container:${this.id}`;
  }

  /**
   * The pod's containers share this one's PID namespace too (Kubernetes'
   * shareProcessNamespace), so that pids mean what they mean on the local runtime: two
   * containers never report the same pid, and a restarted process gets a new one.
   */
  get pidMode(): string {
    return `container:${this.id}`;
  }

  hostPort(containerPort: number): number {
    const port = this.hostPorts.get(containerPort);
    if (port === undefined) throw new Error(`port ${containerPort} is not published by the pod`);
    return port;
  }

  async remove(dockerode: Dockerode): Promise<void> {
    await dockerode.getContainer(this.id).remove({ force: true, v: true }).catch(() => undefined);
  }
}
