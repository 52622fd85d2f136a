// Bounded probes for `doctor`: a command's output or why there is none, and a promise
// cut off after a deadline. The doctor must answer on a broken machine too, so nothing
// it asks may hang (a wedged engine socket, a python that never returns).
import { execFile } from "node:child_process";

export const PROBE_TIMEOUT_MS = 5_000;

export type ProbeResult = { ok: true; stdout: string } | { ok: false; error: string };

export function probeCommand(file: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  return new Promise((settle) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8", env: options.env, cwd: options.cwd }, (error, stdout, stderr) => {
      if (!error) return settle({ ok: true, stdout: stdout.trim() });
      const why =
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? "not found"
          : error.killed
            ? `no answer within ${timeoutMs} ms`
            : (stderr.trim().split("\n").pop() ?? error.message);
      settle({ ok: false, error: why || error.message });
    });
  });
}

export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
