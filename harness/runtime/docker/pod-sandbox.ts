// The pod's pause container ("sandbox"): it owns the network and PID namespaces the
// pod's containers join (`--network container:<id>`, `--pid container:<id>`), publishes
// every declared port on 127.0.0.1 at a free host port, and has the kernel send those
// ports on to the containers' loopback listeners (pod-pause.sh: a DNAT rule per port in
// the pod's namespace, which is why this one container gets CAP_NET_ADMIN). It starts
// first and is removed last.
import type Dockerode from "dockerode";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../project-root.ts";
import { Wait } from "testcontainers";
import { PAUSE_IMAGE } from "./docker-images.ts";
import { PodContainer } from "./pod-container.ts";
import { type PortPublishing, portPublishingOf } from "./port-publishing.ts";

// From the project root, not this file, so that it resolves from the dist/ bundle too.
const PAUSE_SOURCE = join(PROJECT_ROOT, "harness", "runtime", "docker", "pod-pause.sh");
const PAUSE_TARGET = "/sidecar-bench/pod-pause.sh";
const PAUSE_LOG_LINES = 10;
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
      .withEntrypoint(["/bin/sh"])
      .withCommand([PAUSE_TARGET, ...options.ports.map(String)])
      .withBindMounts([{ source: PAUSE_SOURCE, target: PAUSE_TARGET, mode: "ro" }])
      .withLoopbackRouting()
      .withLabels(options.labels)
      .withNetworkMode(options.network)
      .withLoopbackPorts(options.ports)
      .withCpuSet(options.cpuSet)
      .withWaitStrategy(Wait.forLogMessage("pod-pause: publishing"))
      .withStartupTimeout(SANDBOX_START_TIMEOUT_MS)
      .withAutoRemove(false)
      .withAutoCleanup(false)
      .onCreated((id) => {
        createdId = id;
      });
    try {
      await container.start();
    } catch (error) {
      const output = createdId ? await lastLogLines(dockerode, createdId) : "";
      if (createdId) await dockerode.getContainer(createdId).remove({ force: true }).catch(() => undefined);
      throw new Error(`the pod's pause container did not start: ${(error as Error).message}${output ? `; its output: ${output}` : ""}`);
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

  /** How the engine publishes this pod's ports here (port-publishing.ts); null for a pod without ports. */
  portPublishing(): PortPublishing | null {
    const [first] = this.hostPorts.values();
    return first === undefined ? null : portPublishingOf(first);
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

/** What the pause script said before it failed (e.g. iptables refused: no CAP_NET_ADMIN or no nf_tables). */
async function lastLogLines(dockerode: Dockerode, id: string): Promise<string> {
  try {
    const raw = await dockerode.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: PAUSE_LOG_LINES });
    // Without a TTY every chunk carries an 8-byte stream header; keep the text.
    return stripStreamHeaders(Buffer.from(raw)).trim().split("\n").join(" | ");
  } catch {
    return "";
  }
}

/**
 * The text of a non-TTY container's log as the engine returns it unfollowed: frames of an
 * 8-byte header (stream, 3 zero bytes, big-endian length) and the payload. dockerode's
 * demuxStream takes a stream, not the Buffer this call returns.
 */
export function stripStreamHeaders(raw: Buffer): string {
  let text = "";
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(offset + 4);
    text += raw.subarray(offset + 8, offset + 8 + size).toString("utf8");
    offset += 8 + size;
  }
  return text;
}
