// A tool the cross-checks run to its end: its stdout, or an error naming it with its last
// output lines; SIGKILLed at the deadline or when the caller aborts, so no run outlives its bound.
import { spawn } from "node:child_process";

export interface BoundedChild {
  /** What errors call it (e.g. "perf_analyzer"). */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Written to its stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Resolves with stdout when the child exits 0; otherwise rejects with why and its last lines. */
export function runBoundedChild(input: BoundedChild): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(input.command, input.args, { env: input.env ?? process.env, stdio: [input.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(kill, input.timeoutMs);
    input.signal?.addEventListener("abort", kill, { once: true });
    child.on("error", reject);
    child.on("close", (code, how) => {
      clearTimeout(timer);
      input.signal?.removeEventListener("abort", kill);
      if (code === 0) resolvePromise({ stdout, stderr });
      else reject(new Error(`${input.name} ${how ? `killed by ${how}` : `exited ${code}`}: ${lastLines(`${stdout}\n${stderr}`)}`));
    });
    if (input.stdin !== undefined) child.stdin!.end(input.stdin);
  });
}

export function lastLines(text: string, count = 5): string {
  return text.trim().split("\n").slice(-count).join(" | ");
}
