// `promtool check metrics` (Debian's prometheus package, 2.42): the Prometheus project's
// own checker of the text exposition format, reading the exposition on stdin. Its exit
// codes: 0 clean, 1 the text does not parse (or promtool failed), 3 it parses but lint
// rules complain (a counter without `_total`, no HELP, …).
import { spawn } from "node:child_process";

export const PROMTOOL = "promtool";
const TIMEOUT_MS = 15_000;

export interface PromtoolResult {
  exitCode: number;
  /** stdout and stderr, trimmed, one entry per line. */
  lines: string[];
}

export class PromtoolMissing extends Error {
  override name = "PromtoolMissing";
  constructor() {
    super(`${PROMTOOL} not found on PATH: telemetry.exposition-parses runs "promtool check metrics"; install Debian's prometheus package (apt-get install prometheus, which provides /usr/bin/promtool; npm run setup installs it)`);
  }
}

export function checkMetrics(exposition: string | Buffer, options: { signal?: AbortSignal } = {}): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS);
    const child = spawn(PROMTOOL, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"], signal });
    const output: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => reject(error.code === "ENOENT" ? new PromtoolMissing() : new Error(`${PROMTOOL} check metrics: ${error.message}`)));
    // promtool may exit before reading all of a broken exposition: its stdin closing is not an error.
    child.stdin.on("error", () => undefined);
    child.on("close", (code, sig) => {
      if (code === null) {
        reject(new Error(`${PROMTOOL} check metrics ended by ${sig ?? "a signal"}${signal.aborted ? " (timed out or aborted)" : ""}`));
        return;
      }
      const lines = Buffer.concat(output)
        .toString("utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "");
      resolve({ exitCode: code, lines });
    });
    child.stdin.end(exposition);
  });
}
