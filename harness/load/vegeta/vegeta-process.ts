// Runs one vegeta command to completion, bounded: it is killed when the caller aborts or
// when it outlives its deadline, and a failure carries the end of its stderr.
import { spawn } from "node:child_process";

/** Kept of each stream: vegeta's messages are short; results go to files, not here. */
const MAX_CAPTURE_BYTES = 64 * 1024;

export class VegetaError extends Error {
  override name = "VegetaError";
}

export interface VegetaRun {
  binary: string;
  args: string[];
  /** Killed (SIGKILL) after this long. */
  deadlineMs: number;
  signal?: AbortSignal;
}

/** Resolves with stdout once vegeta exits 0; rejects on any other end (AbortError when aborted). */
export function runVegeta({ binary, args, deadlineMs, signal }: VegetaRun): Promise<string> {
  const what = `vegeta ${args[0] ?? ""}`.trim();
  if (signal?.aborted) return Promise.reject(abortError(what));
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // Loopback targets only: a proxy from the environment must never sit in between.
      env: { ...process.env, NO_PROXY: "*", no_proxy: "*" },
    });
    let stdout = "";
    let stderr = "";
    const keep = (kept: string, chunk: Buffer) => (kept + chunk.toString("utf8")).slice(-MAX_CAPTURE_BYTES);
    child.stdout.on("data", (chunk: Buffer) => (stdout = keep(stdout, chunk)));
    child.stderr.on("data", (chunk: Buffer) => (stderr = keep(stderr, chunk)));
    let stopped: Error | null = null;
    const stop = (reason: Error) => {
      stopped ??= reason;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => stop(new VegetaError(`${what} did not finish within ${(deadlineMs / 1000).toFixed(1)} s and was killed${tail(stderr)}`)), deadlineMs);
    const onAbort = () => stop(abortError(what));
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      settle();
      reject(new VegetaError(`${what}: could not start ${binary}: ${error.code ?? error.message}`));
    });
    child.once("close", (code, killedBy) => {
      settle();
      if (stopped) reject(stopped);
      else if (code === 0) resolve(stdout);
      else reject(new VegetaError(`${what} exited with ${code !== null ? `code ${code}` : killedBy}${tail(stderr)}`));
    });
  });
}

function tail(stderr: string): string {
  const lines = stderr.trim().split("\n").slice(-10);
  return lines[0] ? `; its stderr:\n  ${lines.join("\n  ")}` : "";
}

function abortError(what: string): Error {
  const error = new Error(`${what} was aborted`);
  error.name = "AbortError";
  return error;
}
