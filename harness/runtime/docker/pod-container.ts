// testcontainers' GenericContainer with the few HostConfig settings a pod needs that
// its builder does not offer: another container's PID namespace, ports published on
// 127.0.0.1 only, NAT to loopback (pause container), a cpuset, no log storage in the
// engine, and a hook with the container id before the container starts (so an exit event
// can never arrive for an id we do not know yet, and its output is attached from the first byte).
import { GenericContainer } from "testcontainers";

export class PodContainer extends GenericContainer {
  private createdHook?: (containerId: string) => void | Promise<void>;

  /**
   * `container:<id>`: processes of the pod see each other, with pids unique in the pod.
   * A command is then not PID 1 (the pause container's process is), so it gets the
   * default signal dispositions, as on the local runtime: no init process is needed
   * (and the engine adds none to a container that shares a PID namespace).
   */
  withPidMode(mode: string): this {
    this.hostConfig.PidMode = mode;
    return this;
  }

  /** Publishes each port on 127.0.0.1 at a free host port (testcontainers binds all interfaces). */
  withLoopbackPorts(ports: number[]): this {
    this.withExposedPorts(...ports);
    this.hostConfig.PortBindings = Object.fromEntries(ports.map((port) => [`${port}/tcp`, [{ HostIp: "127.0.0.1", HostPort: "0" }]]));
    return this;
  }

  /**
   * For the pause container: it may add NAT rules to the pod's network namespace
   * (CAP_NET_ADMIN), and the kernel may route packets that arrive on the pod's bridge
   * address to 127.0.0.1 (route_localnet), where the containers listen.
   */
  withLoopbackRouting(): this {
    this.hostConfig.CapAdd = [...(this.hostConfig.CapAdd ?? []), "NET_ADMIN"];
    this.hostConfig.Sysctls = { ...this.hostConfig.Sysctls, "net.ipv4.conf.all.route_localnet": "1" };
    return this;
  }

  withCpuSet(cpus: number[] | undefined): this {
    if (cpus && cpus.length > 0) this.hostConfig.CpusetCpus = cpus.join(",");
    return this;
  }

  /**
   * The engine keeps none of the output (log driver "none"): the harness attaches to the
   * container's stream and keeps the capped log itself, as the kubelet keeps a pod's logs.
   * Otherwise the engine's json-file log of a flooding container grows without bound.
   */
  withoutEngineLogs(): this {
    this.hostConfig.LogConfig = { Type: "none", Config: {} };
    return this;
  }

  /** Awaited before the container starts. */
  onCreated(hook: (containerId: string) => void | Promise<void>): this {
    this.createdHook = hook;
    return this;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    await this.createdHook?.(containerId);
  }
}
