// One container of a docker pod, across its restarts. Each (re)start is a new engine
// container (as kubelet creates a new one), joined to the pod's network and PID
// namespaces; its output goes to one capped ContainerLog (one log file) for all of them,
// attached to before each start, so the engine itself stores none of it.
// Created through testcontainers; output and stats go through dockerode directly, which
// testcontainers wraps only for whole-container stop/restart, not for one signal, and
// signals are sent on this host where it can (host-signal.ts), else through dockerode.
import type Dockerode from "dockerode";
import { Writable } from "node:stream";
import { OUTPUT_DRAIN_MS } from "../container-exit.ts";
import { ContainerLog } from "../logs/container-log.ts";
import type { ContainerSpec } from "../pod-runtime.ts";
import { type CgroupReader, cgroupReaderFor } from "./docker-cgroup-stats.ts";
import { type StatsCounters, ZERO_COUNTERS, sampleDockerStats } from "./docker-stats.ts";
import { type ExitInfo, exitInfoFromCode } from "./exit-info.ts";
import { isContainerProcess, signalOnHost } from "./host-signal.ts";
import { PodContainer } from "./pod-container.ts";
import type { BindMount } from "./pod-mounts.ts";

export interface ContainerLaunch {
  image: string;
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Container name prefix; each start appends its restart number. */
  namePrefix: string;
  networkMode: string;
  pidMode: string;
  workingDir: string;
  bindMounts: BindMount[];
  cpuSet?: number[];
  /** Cap of the container's log file (head and tail kept). */
  logMaxBytes: number;
}


interface Instance {
  id: string;
  exit: ExitInfo | null;
  /** Set once its "die" is seen, while its output drains (a second "die" is the same exit). */
  exiting: boolean;
  /** Resolves when its attached output stream has ended (at once when none was attached). */
  outputEnded: Promise<void>;
  oomKilled: boolean;
  /** Last counters read while it ran: an exited container's stats read as zero. */
  lastCounters: StatsCounters;
  /** Its cgroup on this host, when the engine is local (fast); else the stats API is asked. */
  cgroup: CgroupReader | null;
}

export class DockerContainer {
  readonly log: ContainerLog;
  private current: Instance | null = null;
  private readonly instances: Instance[] = [];
  /** Counters of earlier instances, so CPU time stays cumulative across restarts. */
  private carried: StatsCounters = ZERO_COUNTERS;
  private oomKills = 0;
  private exitWaiters: Array<(exit: ExitInfo) => void> = [];
  private starts = 0;
  pid?: number;

  constructor(
    readonly spec: ContainerSpec,
    private readonly launch: ContainerLaunch,
    private readonly dockerode: Dockerode,
    logFile: string,
    private readonly onExit: (exit: ExitInfo) => void,
  ) {
    this.log = new ContainerLog(logFile, launch.logMaxBytes);
  }

  get running(): boolean {
    return this.current !== null && this.current.exit === null;
  }

  get exit(): ExitInfo | null {
    return this.current?.exit ?? null;
  }

  get containerIds(): string[] {
    return this.instances.map((i) => i.id);
  }

  owns(containerId: string): boolean {
    return this.instances.some((i) => i.id === containerId);
  }

  /** Creates and starts a new engine container; resolves once it runs (probes are the pod's job). */
  async start(): Promise<void> {
    if (this.current) {
      this.carried = addCounters(this.carried, this.current.lastCounters);
    }
    const { launch, spec } = this;
    const [entrypoint, ...args] = launch.command;
    const instance: Instance = { id: "", exit: null, exiting: false, outputEnded: Promise.resolve(), oomKilled: false, lastCounters: ZERO_COUNTERS, cgroup: null };
    this.current = instance;
    const container = new PodContainer(launch.image)
      .withName(`${launch.namePrefix}-${this.starts++}`)
      // Kubernetes' `command` replaces the image's ENTRYPOINT; the rest are its arguments.
      .withEntrypoint([entrypoint!])
      .withCommand(args)
      .withEnvironment(launch.env)
      .withLabels(launch.labels)
      .withNetworkMode(launch.networkMode)
      .withPidMode(launch.pidMode)
      .withWorkingDir(launch.workingDir)
      .withBindMounts(launch.bindMounts)
      .withCpuSet(launch.cpuSet)
      .withResourcesQuota({
        ...(spec.resources?.memoryMiB !== undefined ? { memory: spec.resources.memoryMiB / 1024 } : {}),
        ...(spec.resources?.cpus !== undefined ? { cpu: spec.resources.cpus } : {}),
      })
      .withAutoRemove(false)
      .withAutoCleanup(false)
      .withoutEngineLogs()
      .onCreated(async (id) => {
        instance.id = id;
        this.instances.push(instance);
        await this.attachOutput(instance);
      });
    try {
      await container.start();
    } catch (error) {
      // The engine refused to start it (e.g. no such executable in the image): an exit.
      this.log.note(`start failed: ${(error as Error).message}`);
      if (instance.exit === null) this.exited(instance, { code: 127, signal: null });
      return;
    }
    const inspect = await this.dockerode.getContainer(instance.id).inspect().catch(() => null);
    this.pid = inspect?.State?.Pid || undefined;
    // Only a pid shown to be this container's: with an engine elsewhere it would name some other process here.
    if (this.pid !== undefined && isContainerProcess(instance.id, this.pid)) instance.cgroup = cgroupReaderFor(this.pid);
  }

  /** Called by the pod for this container's engine events. */
  handleEvent(containerId: string, action: "die" | "oom", exitCode?: number): void {
    const instance = this.instances.find((i) => i.id === containerId);
    if (!instance) return;
    if (action === "oom") {
      instance.oomKilled = true;
      this.oomKills++;
      return;
    }
    if (instance.exit !== null || instance.exiting) return;
    instance.exiting = true;
    // The exit is recorded (and the pod notes it in the log) only after the output before
    // it: else its last lines could land after the harness's "container exited" note.
    const exit = exitInfoFromCode(exitCode ?? 0);
    void this.outputDrained(instance, OUTPUT_DRAIN_MS).then(() => {
      if (instance.exit === null) this.exited(instance, exit);
    });
  }

  /** Delivered before it returns where the engine is on this host (host-signal.ts), else through the engine. */
  signal(sig: NodeJS.Signals): void {
    const instance = this.current;
    if (!instance || instance.exit !== null || !instance.id) return;
    if (signalOnHost(instance.id, this.pid, sig)) return;
    this.dockerode
      .getContainer(instance.id)
      .kill({ signal: sig })
      .catch(() => undefined); // exited meanwhile
  }

  /** SIGKILL to the container (its command and everything under it), through the engine. */
  async killNow(): Promise<void> {
    const instance = this.current;
    if (!instance || instance.exit !== null || !instance.id) return;
    await this.dockerode
      .getContainer(instance.id)
      .kill({ signal: "SIGKILL" })
      .catch(() => undefined);
  }

  /** Resolves with the exit, or null if the container still runs after timeoutMs. */
  waitExit(timeoutMs: number): Promise<ExitInfo | null> {
    if (!this.current || this.current.exit) return Promise.resolve(this.current?.exit ?? null);
    return new Promise((resolveExit) => {
      const timer = setTimeout(() => {
        this.exitWaiters = this.exitWaiters.filter((w) => w !== waiter);
        resolveExit(null);
      }, Math.max(0, timeoutMs));
      const waiter = (exit: ExitInfo) => {
        clearTimeout(timer);
        resolveExit(exit);
      };
      this.exitWaiters.push(waiter);
    });
  }

  async stats(): Promise<StatsCounters & { oomKills: number }> {
    const instance = this.current;
    if (instance && instance.exit === null && instance.id) {
      const sample = instance.cgroup ? instance.cgroup() : await sampleDockerStats(this.dockerode, instance.id).catch(() => null);
      if (sample) instance.lastCounters = sample;
    }
    const latest = instance?.lastCounters ?? ZERO_COUNTERS;
    const total = addCounters(this.carried, latest);
    return { ...total, memoryBytes: instance?.exit === null ? latest.memoryBytes : 0, oomKills: this.oomKills };
  }

  /** Removes every engine container this one ever was (after the pod has stopped). */
  async remove(): Promise<void> {
    await Promise.all(this.instances.map((i) => this.dockerode.getContainer(i.id).remove({ force: true, v: true }).catch(() => undefined)));
    this.log.close();
  }

  private exited(instance: Instance, exit: ExitInfo): void {
    instance.exit = exit;
    if (instance !== this.current) return;
    for (const waiter of this.exitWaiters.splice(0)) waiter(exit);
    this.onExit(exit);
  }

  /** Waits (bounded) until the exited container's last output has arrived, for error messages. */
  async drainLogs(timeoutMs = 1_000): Promise<void> {
    if (this.current) await this.outputDrained(this.current, timeoutMs);
  }

  /** Until the instance's output stream has ended, or `timeoutMs`. */
  private async outputDrained(instance: Instance, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([instance.outputEnded, new Promise<void>((done) => (timer = setTimeout(done, timeoutMs)))]);
    clearTimeout(timer);
  }

  /**
   * Attached before the start, so no output is missed; the stream ends when the container
   * does, after the last of its output. outputEnded resolves once the sink has finished,
   * i.e. once every chunk demuxed from the stream is in the log.
   */
  private async attachOutput(instance: Instance): Promise<void> {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.log.append(chunk);
        done();
      },
    });
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.dockerode.getContainer(instance.id).attach({ stream: true, stdout: true, stderr: true, logs: false });
    } catch (error) {
      this.log.note(`output unavailable: ${(error as Error).message}`);
      return;
    }
    instance.outputEnded = new Promise<void>((done) => {
      sink.once("finish", () => done());
      // Not once: a write after the end would be a second error, unhandled.
      sink.on("error", () => done());
      const endSink = () => {
        if (!sink.writableEnded) sink.end();
      };
      // Not a TTY: stdout and stderr arrive multiplexed in frames.
      this.dockerode.modem.demuxStream(stream, sink, sink);
      stream.on("end", endSink);
      stream.on("close", endSink);
      stream.on("error", endSink);
    });
  }
}

function addCounters(a: StatsCounters, b: StatsCounters): StatsCounters {
  return {
    cpuUsageUs: a.cpuUsageUs + b.cpuUsageUs,
    memoryBytes: b.memoryBytes,
    throttledPeriods: (a.throttledPeriods ?? 0) + (b.throttledPeriods ?? 0),
    throttledUs: (a.throttledUs ?? 0) + (b.throttledUs ?? 0),
  };
}
