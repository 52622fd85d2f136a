// The local runtime: a pod is a set of processes on 127.0.0.1, started, probed,
// restarted and stopped in the order of Kubernetes native sidecars.
import { accessSync, constants, mkdirSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { PodRuntime, PodSpec, StartedPod, StartPodOptions } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { type CgroupLayout, detectCgroupLayout, removeRunCgroups } from "./cgroup.ts";
import { DEFAULT_CONTAINER_LOG_MAX_BYTES } from "../logs/log-limits.ts";
import { LocalPod } from "./local-pod.ts";
import { reapOrphans } from "./reaper.ts";
import { ownerOf, removeOwnerFile, writeOwnerFile } from "./run-labels.ts";

export interface LocalRuntimeOptions {
  /** Run files (rendered configs, container logs) go to <workDir>/<pod>/. */
  workDir: string;
  /** Directories searched first for container commands (e.g. the project's .venv/bin). */
  extraPath?: string[];
  /** "auto" uses cgroups where writable; "off" forces /proc accounting and no limits. */
  cgroups?: "auto" | "off";
  /** Cap of each container's log file (default DEFAULT_CONTAINER_LOG_MAX_BYTES, the kubelet's). */
  containerLogMaxBytes?: number;
  /** Where owner files live (tests isolate it); defaults to the OS temp dir. */
  stateRoot?: string;
}

export class LocalRuntime implements PodRuntime {
  readonly cgroupLayout: CgroupLayout | null;
  private readonly pods = new Set<LocalPod>();
  private readonly ownedRuns = new Set<string>();
  private readonly owner = ownerOf(process.pid);
  private readonly killOnExit = () => {
    for (const pod of this.pods) pod.killAllNow();
  };

  constructor(private readonly options: LocalRuntimeOptions) {
    this.cgroupLayout = options.cgroups === "off" ? null : detectCgroupLayout();
  }

  getName(): string {
    return "local";
  }

  /** "cgroup-v1", "cgroup-v2" or "proc": where resource figures come from. */
  accountingSource(): "cgroup-v1" | "cgroup-v2" | "proc" {
    return this.cgroupLayout?.version ?? "proc";
  }

  async startPod(spec: PodSpec, options: StartPodOptions = {}): Promise<StartedPod> {
    const path = [...(this.options.extraPath ?? []), ...(process.env.PATH ?? "").split(delimiter)];
    for (const container of spec.containers) assertExecutable(container.name, container.command[0] ?? "", container.baseDir, path);
    if (!this.ownedRuns.has(spec.runId)) {
      writeOwnerFile(spec.runId, this.owner, this.options.stateRoot);
      this.ownedRuns.add(spec.runId);
    }
    const podDir = join(this.options.workDir, spec.name);
    mkdirSync(podDir, { recursive: true });
    const pod = new LocalPod(spec, {
      podDir,
      path: path.join(delimiter),
      owner: this.owner,
      cgroupLayout: this.cgroupLayout,
      logMaxBytes: this.options.containerLogMaxBytes ?? DEFAULT_CONTAINER_LOG_MAX_BYTES,
      onStopped: () => this.forget(pod),
    });
    this.track(pod);
    try {
      const { onCreated } = options;
      await pod.start(options.readyTimeoutMs, onCreated && (() => onCreated(pod)));
    } catch (error) {
      await pod.stop();
      throw error;
    }
    return pod;
  }

  /** Stops every pod this runtime started (Ctrl-C, end of run). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.pods].map((pod) => pod.stop()));
    for (const runId of this.ownedRuns) {
      if (this.cgroupLayout) removeRunCgroups(this.cgroupLayout, runId);
      removeOwnerFile(runId, this.options.stateRoot);
    }
    this.ownedRuns.clear();
  }

  reapOrphans(): Promise<string[]> {
    return reapOrphans(this.cgroupLayout, this.options.stateRoot);
  }

  private track(pod: LocalPod): void {
    // Last resort if the harness exits without stopping its pods (an uncaught error):
    // 'exit' handlers run synchronously, and SIGKILL needs nothing asynchronous.
    if (this.pods.size === 0) process.on("exit", this.killOnExit);
    this.pods.add(pod);
  }

  private forget(pod: LocalPod): void {
    this.pods.delete(pod);
    if (this.pods.size === 0) process.off("exit", this.killOnExit);
  }
}

/** A command with a slash is relative to the container's working directory (its manifest's folder), as exec sees it. */
function assertExecutable(container: string, command: string, baseDir: string, path: string[]): void {
  const candidates = isAbsolute(command) ? [command] : command.includes("/") ? [resolve(baseDir, command)] : path.map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return;
    } catch {
      // Try the next directory.
    }
  }
  const where = isAbsolute(command) ? "" : command.includes("/") ? ` (relative to ${baseDir})` : ` on PATH (searched ${path.slice(0, 4).join(", ")}, …)`;
  throw new PodStartError(
    `container "${container}": command "${command}" is not an executable${where}; ` +
      `run "npm run setup" to install the reference components, or fix spec.container.command[0] in its manifest`,
    container,
    [],
  );
}
