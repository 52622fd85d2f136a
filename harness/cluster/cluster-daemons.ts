// The cluster's daemons as background processes that outlive the command that started
// them (`cluster up` returns; the cluster keeps running): each in its own session, its
// output appended to <state>/logs/<name>.log, its pid in <run>/<name>.pid. A pid file is
// trusted only while that pid still runs the same program (pids are reused).
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterLayout } from "./cluster-layout.ts";
import type { DaemonCommand } from "./cluster-configs.ts";

const HEALTH_POLL_MS = 200;
const STOP_GRACE_MS = 15_000;
/** SIGKILL ends a process at once unless it is stuck in the kernel (uninterruptible I/O). */
const KILL_WAIT_MS = 10_000;
const LOG_TAIL_LINES = 15;

export class DaemonError extends Error {
  override name = "DaemonError";
}

function pidFile(layout: ClusterLayout, name: string): string {
  return join(layout.runDir, `${name}.pid`);
}

export function logFile(layout: ClusterLayout, name: string): string {
  return join(layout.logDir, `${name}.log`);
}

/** The process's argv while it runs; null once it is gone — or a zombie, whose cmdline is empty and which no signal ends. */
function commandLine(pid: number): string[] | null {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return argv.length > 0 ? argv : null;
  } catch {
    return null;
  }
}

/** The daemon's pid while it runs (and is the program its pid file says), else null. */
export function runningPid(layout: ClusterLayout, daemon: Pick<DaemonCommand, "name" | "file">): number | null {
  const file = pidFile(layout, daemon.name);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  const argv = Number.isInteger(pid) && pid > 0 ? commandLine(pid) : null;
  if (!argv || basename(argv[0] ?? "") !== basename(daemon.file)) return null;
  return pid;
}

export function logTail(layout: ClusterLayout, name: string, lines = LOG_TAIL_LINES): string[] {
  try {
    return readFileSync(logFile(layout, name), "utf8").trimEnd().split("\n").slice(-lines);
  } catch {
    return [];
  }
}

/** One health check: an HTTP(S) status below 400, or a socket that accepts a connection. */
export function healthy(health: DaemonCommand["health"], timeoutMs = 2_000): Promise<boolean> {
  if ("socket" in health) {
    return new Promise((done) => {
      if (!existsSync(health.socket)) return done(false);
      const socket = connect(health.socket);
      const timer = setTimeout(() => (socket.destroy(), done(false)), timeoutMs);
      socket.once("connect", () => (clearTimeout(timer), socket.destroy(), done(true)));
      socket.once("error", () => (clearTimeout(timer), done(false)));
    });
  }
  const url = new URL(health.url);
  // Loopback only, and the daemons' own serving certificates are self-signed: not verified here.
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((done) => {
    const req = request(url, { method: "GET", timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      done((res.statusCode ?? 500) < 400);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => done(false));
    req.end();
  });
}

/** Starts the daemon unless it runs, and waits until it is healthy; throws with its last log lines. */
export async function startDaemon(layout: ClusterLayout, daemon: DaemonCommand, timeoutMs: number): Promise<{ pid: number; started: boolean }> {
  mkdirSync(layout.runDir, { recursive: true });
  mkdirSync(layout.logDir, { recursive: true });
  let pid = runningPid(layout, daemon);
  const started = pid === null;
  if (pid === null) {
    const log = openSync(logFile(layout, daemon.name), "a");
    try {
      const child = spawn(daemon.file, daemon.args, { detached: true, stdio: ["ignore", log, log] });
      const spawned = await new Promise<number>((resolve, reject) => {
        child.once("spawn", () => resolve(child.pid!));
        child.once("error", (error) => reject(new DaemonError(`${daemon.name}: cannot start ${daemon.file}: ${error.message}`)));
      });
      child.unref();
      pid = spawned;
      writeFileSync(pidFile(layout, daemon.name), `${pid}\n`);
    } finally {
      closeSync(log);
    }
  }
  const deadline = performance.now() + timeoutMs;
  while (!(await healthy(daemon.health))) {
    if (commandLine(pid) === null) {
      throw new DaemonError(`${daemon.name} exited while starting; last lines of ${logFile(layout, daemon.name)}:\n  ${logTail(layout, daemon.name).join("\n  ")}`);
    }
    if (performance.now() > deadline) {
      throw new DaemonError(`${daemon.name} did not become healthy within ${timeoutMs / 1000} s; last lines of ${logFile(layout, daemon.name)}:\n  ${logTail(layout, daemon.name).join("\n  ")}`);
    }
    await sleep(HEALTH_POLL_MS);
  }
  return { pid, started };
}

/** False when the process is already gone (it exited since its pid was read). */
function signalIfAlive(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/** SIGTERM, then SIGKILL after the grace period. True if it was running. */
export async function stopDaemon(layout: ClusterLayout, daemon: Pick<DaemonCommand, "name" | "file">): Promise<boolean> {
  const pid = runningPid(layout, daemon);
  rmSync(pidFile(layout, daemon.name), { force: true });
  if (pid === null) return false;
  if (!signalIfAlive(pid, "SIGTERM")) return true;
  const deadline = performance.now() + STOP_GRACE_MS;
  while (commandLine(pid) !== null && performance.now() < deadline) await sleep(100);
  if (commandLine(pid) !== null) {
    signalIfAlive(pid, "SIGKILL");
    const killDeadline = performance.now() + KILL_WAIT_MS;
    while (commandLine(pid) !== null) {
      if (performance.now() > killDeadline) throw new DaemonError(`${daemon.name} (pid ${pid}) still runs ${KILL_WAIT_MS / 1000} s after SIGKILL (stuck in the kernel?)`);
      await sleep(50);
    }
  }
  return true;
}
