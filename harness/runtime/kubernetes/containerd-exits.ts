// When each container's process exited, to the nanosecond, from the container runtime's
// event service on the node (`ctr events`, /tasks/exit), where the API only shows exits
// at one-second resolution and often several in one status update. Lets the pod's events
// keep the order in which containers really ended (the drain checks' question).
import { spawn, type ChildProcess } from "node:child_process";
import { LineSplitter } from "../../load/remote/remote-protocol.ts";

export interface TaskExit {
  containerId: string;
  /** performance.now() scale, converted from the runtime's wall-clock timestamp. */
  exitedAtMs: number;
  exitStatus: number;
}

/** Parses one line of `ctr events` output; null for anything but a task's exit. */
export function parseTaskExit(line: string, nowMs: () => number = () => performance.now(), epochNowMs: () => number = () => Date.now()): TaskExit | null {
  const at = line.indexOf(" /tasks/exit ");
  if (at < 0) return null;
  let body: { container_id?: string; exit_status?: number; exited_at?: string };
  try {
    body = JSON.parse(line.slice(at + " /tasks/exit ".length)) as typeof body;
  } catch {
    return null;
  }
  if (!body.container_id || !body.exited_at) return null;
  const exitedEpochMs = Date.parse(body.exited_at);
  if (Number.isNaN(exitedEpochMs)) return null;
  // Nanoseconds beyond Date.parse's milliseconds: kept to the microsecond.
  const fraction = /\.(\d+)Z$/.exec(body.exited_at)?.[1] ?? "";
  const subMs = fraction.length > 3 ? Number(`0.${fraction.slice(3, 6)}`) : 0;
  return { containerId: body.container_id, exitedAtMs: nowMs() - (epochNowMs() - exitedEpochMs - subMs), exitStatus: body.exit_status ?? 0 };
}

export class ContainerdExits {
  private readonly exits = new Map<string, TaskExit>();
  private child: ChildProcess | null = null;

  constructor(
    private readonly ctr: string,
    private readonly socket: string,
  ) {}

  start(): void {
    if (this.child) return;
    const lines = new LineSplitter();
    const child = spawn(this.ctr, ["--address", this.socket, "--namespace", "k8s.io", "events"], { stdio: ["ignore", "pipe", "ignore"] });
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      for (const line of lines.push(chunk)) {
        const exit = parseTaskExit(line);
        if (exit) this.exits.set(exit.containerId, exit);
      }
    });
    child.on("error", () => undefined);
    // Never what keeps the harness alive: stop() ends it, and so does the harness's exit.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    this.child = child;
  }

  /** The exit of container `containerId` (with or without its runtime prefix), if seen. */
  exitOf(containerId: string): TaskExit | undefined {
    return this.exits.get(containerId.replace(/^[a-z]+:\/\//, ""));
  }

  stop(): void {
    this.child?.kill();
    this.child = null;
  }
}
