// When each container's process started and exited, to the microsecond, from the
// container runtime's event service on the node (`ctr events`: /tasks/start, /tasks/exit),
// where the API shows these late (the kubelet notices them at its next relist, up to a
// second later) and at one-second resolution. Lets the pod's events keep the order and
// the times at which containers really started and ended.
import { spawn, type ChildProcess } from "node:child_process";
import { LineSplitter } from "../../load/remote/remote-protocol.ts";

export interface TaskEvent {
  type: "start" | "exit";
  containerId: string;
  /** performance.now() scale, converted from the runtime's wall-clock timestamp. */
  atMs: number;
  exitStatus?: number;
}

/** Wall-clock ms of an RFC 3339 time, keeping microseconds Date.parse drops. */
function epochMs(rfc3339: string): number {
  const ms = Date.parse(rfc3339);
  const fraction = /\.(\d+)(?:Z|[+-]\d\d:?\d\d)$/.exec(rfc3339)?.[1] ?? "";
  return fraction.length > 3 ? ms + Number(`0.${fraction.slice(3, 6)}`) : ms;
}

/**
 * One line of `ctr events` ("2026-12-06 20:25:28.186924530 +0000 UTC k8s.io /tasks/exit {…}"):
 * a task's start (timed by the line's own timestamp) or exit (by its exited_at); null
 * otherwise, and for the exit of a process exec'd in the container.
 */
export function parseTaskEvent(line: string, nowMs: () => number = () => performance.now(), epochNowMs: () => number = () => Date.now()): TaskEvent | null {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) \+0000 UTC \S+ \/tasks\/(start|exit) (\{.*\})$/.exec(line.trim());
  if (!match) return null;
  const [, date, time, type, json] = match;
  let body: { container_id?: string; id?: string; exit_status?: number; exited_at?: string };
  try {
    body = JSON.parse(json!) as typeof body;
  } catch {
    return null;
  }
  if (!body.container_id) return null;
  // An exec'd process (an exec probe, `kubectl exec`) exits under its container's id with
  // its own exec id as `id`: that is not the container's exit.
  if (type === "exit" && body.id !== undefined && body.id !== body.container_id) return null;
  const wallMs = type === "exit" && body.exited_at ? epochMs(body.exited_at) : epochMs(`${date}T${time}Z`);
  if (Number.isNaN(wallMs)) return null;
  const atMs = nowMs() - (epochNowMs() - wallMs);
  return type === "exit" ? { type, containerId: body.container_id, atMs, exitStatus: body.exit_status ?? 0 } : { type: "start", containerId: body.container_id, atMs };
}

export class ContainerdTaskEvents {
  private readonly starts = new Map<string, TaskEvent>();
  private readonly exits = new Map<string, TaskEvent>();
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
        const event = parseTaskEvent(line);
        if (event) (event.type === "start" ? this.starts : this.exits).set(event.containerId, event);
      }
    });
    child.on("error", () => undefined);
    // Never what keeps the harness alive: stop() ends it; a harness that exits without
    // stop() leaves it until its next event, whose write to the closed pipe ends it (EPIPE).
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    this.child = child;
  }

  /** When container `containerId` (with or without its runtime prefix) started / exited, if seen. */
  startOf(containerId: string): number | undefined {
    return this.starts.get(bare(containerId))?.atMs;
  }

  exitOf(containerId: string): number | undefined {
    return this.exits.get(bare(containerId))?.atMs;
  }

  stop(): void {
    this.child?.kill();
    this.child = null;
  }
}

function bare(containerId: string): string {
  return containerId.replace(/^[a-z]+:\/\//, "");
}
