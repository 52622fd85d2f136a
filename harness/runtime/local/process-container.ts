// One container of a local pod: a process group started from the container's
// rendered command, joined to its cgroup (if any) before exec, optionally pinned to
// CPUs, with its output captured in a capped ContainerLog. As in a Kubernetes container,
// its processes end with its main process, those that left its process group too.
import { spawn, type ChildProcess } from "node:child_process";
import { ContainerLog } from "../logs/container-log.ts";
import type { ContainerCgroup } from "./cgroup.ts";
import { LABEL_CONTAINER, LABEL_POD, LABEL_RUN_ID, containerPids } from "./run-labels.ts";
import { OUTPUT_DRAIN_MS, type ExitInfo } from "../container-exit.ts";

export interface ProcessContainerOptions {
  name: string;
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  cgroup: ContainerCgroup | null;
  cpuSet?: number[];
  logFile: string | null;
  /** Cap of the log file (head and tail kept). */
  logMaxBytes: number;
}

export type { ExitInfo };

export class ProcessContainer {
  readonly log: ContainerLog;
  private child: ChildProcess | null = null;
  private exitInfo: ExitInfo | null = null;
  private exitWaiters: Array<(info: ExitInfo) => void> = [];

  constructor(private readonly options: ProcessContainerOptions) {
    this.log = new ContainerLog(options.logFile, options.logMaxBytes);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  start(onExit: (info: ExitInfo) => void): void {
    this.exitInfo = null;
    const { command, cgroup, cpuSet } = this.options;
    // The shell joins the cgroup and then execs the command, so the container's own
    // process (and everything it forks) is accounted from its first instruction.
    const join = (cgroup?.procsFiles() ?? []).map((file) => `echo $$ > '${file}'`).join(" && ");
    const pin = cpuSet && cpuSet.length > 0 ? ["taskset", "-c", cpuSet.join(",")] : [];
    const script = `${join ? `${join} && ` : ""}exec "$@"`;
    const child = spawn("/bin/sh", ["-c", script, "sh", ...pin, ...command], {
      cwd: this.options.cwd,
      env: this.options.env,
      detached: true, // own process group: SIGKILL reaches its children too
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout!.on("data", (chunk: Buffer) => this.log.append(chunk));
    child.stderr!.on("data", (chunk: Buffer) => this.log.append(chunk));
    child.once("error", (error) => this.log.note(`spawn failed: ${error.message}`));
    child.once("exit", (code, signal) => {
      // What it left running (children in its group or escaped from it) goes with it, as
      // when a container's PID 1 exits; a restart then starts from nothing.
      this.killAll();
      const info = { code, signal };
      // The exit is recorded (and the pod notes it in the log) once the pipes have
      // delivered what the process wrote before it: 'exit' can come while a flood's last
      // bytes are still unread. 'close' follows within milliseconds once every holder of
      // the pipes is dead; the bound keeps a pipe that never closes from holding the exit.
      let recorded = false;
      const record = () => {
        if (recorded) return;
        recorded = true;
        clearTimeout(bound);
        this.exitInfo = info;
        for (const waiter of this.exitWaiters.splice(0)) waiter(info);
        onExit(info);
      };
      const bound = setTimeout(record, OUTPUT_DRAIN_MS);
      child.once("close", record);
    });
  }

  /** Signals the container's own process, as a container runtime signals PID 1. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running || this.child?.pid === undefined) return;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      // Exited meanwhile.
    }
  }

  /**
   * SIGKILL to the process group and to every process left in the cgroup, or without a
   * cgroup to every process labelled as this container's (found in /proc by its environment).
   */
  killAll(): void {
    const pid = this.child?.pid;
    const targets = new Set<number>(this.options.cgroup ? this.options.cgroup.pids() : this.labelledPids());
    if (pid !== undefined) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Group already gone.
      }
    }
    for (const target of targets) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  /** Resolves with the exit, or null if the process is still running after timeoutMs. */
  waitExit(timeoutMs: number): Promise<ExitInfo | null> {
    if (this.exitInfo || !this.child) return Promise.resolve(this.exitInfo);
    return new Promise((resolveExit) => {
      const timer = setTimeout(() => {
        this.exitWaiters = this.exitWaiters.filter((w) => w !== waiter);
        resolveExit(null);
      }, Math.max(0, timeoutMs));
      const waiter = (info: ExitInfo) => {
        clearTimeout(timer);
        resolveExit(info);
      };
      this.exitWaiters.push(waiter);
    });
  }

  private labelledPids(): number[] {
    const { env } = this.options;
    const [runId, pod, container] = [env[LABEL_RUN_ID], env[LABEL_POD], env[LABEL_CONTAINER]];
    return runId && pod && container ? containerPids(runId, pod, container) : [];
  }
}
