// One probe attempt (http, tcp, exec), as kubelet runs them: http passes on a status
// in 200..399 (or the expected one), tcp on an accepted connection, exec on exit 0.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { request } from "node:http";
import type { ProbeAction } from "./pod-runtime.ts";

export interface ProbeTarget {
  host: string;
  /** Resolves a port name of the probed container to a number. */
  port(name: string): number;
  env?: NodeJS.ProcessEnv;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

export async function runProbe(action: ProbeAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  if ("http" in action) return httpProbe(target.host, target.port(action.http.port), action.http.path, action.http.expectStatus, timeoutMs);
  if ("tcp" in action) return tcpProbe(target.host, target.port(action.tcp.port), timeoutMs);
  return execProbe(action.exec.command, target.env, timeoutMs);
}

function httpProbe(host: string, port: number, path: string, expectStatus: number | undefined, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((done) => {
    const req = request({ host, port, path, method: "GET", timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const ok = expectStatus === undefined ? status >= 200 && status < 400 : status === expectStatus;
      done({ ok, detail: `GET ${path} → ${status}` });
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", (error) => done({ ok: false, detail: `GET ${path}: ${error.message}` }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      done({ ok: false, detail: `tcp ${port}: timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      done({ ok: true, detail: `tcp ${port}: connected` });
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      done({ ok: false, detail: `tcp ${port}: ${error.message}` });
    });
  });
}

function execProbe(command: string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((done) => {
    const [file, ...args] = command;
    const child = spawn(file!, args, { env, stdio: "ignore", timeout: timeoutMs, killSignal: "SIGKILL" });
    child.once("error", (error) => done({ ok: false, detail: `exec ${file}: ${error.message}` }));
    child.once("exit", (code, signal) =>
      done({ ok: code === 0, detail: `exec ${file}: ${signal ? `killed by ${signal}` : `exit ${code}`}` }),
    );
  });
}
