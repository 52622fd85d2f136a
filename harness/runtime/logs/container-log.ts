// A container's output as every runtime keeps it (local processes' pipes, the docker
// engine's attach stream): on disk in a capped file (capped-log-file.ts: head, marker,
// tail) and in memory as a byte-bounded tail for logs(). Whatever a container writes, the
// harness holds at most LOG_TAIL_MAX_BYTES of it in memory and the cap on disk.
import type { ContainerLogUsage } from "../pod-runtime.ts";
import { CappedLogFile } from "./capped-log-file.ts";
import { describeDroppedOutput } from "./dropped-output.ts";
import { DEFAULT_CONTAINER_LOG_MAX_BYTES, LOG_TAIL_MAX_LINES } from "./log-limits.ts";
import { LogTail } from "./log-tail.ts";

const NEWLINE = 0x0a;

export class ContainerLog {
  private readonly file: CappedLogFile | null;
  private readonly memory = new LogTail();
  private atLineStart = true;

  constructor(filePath: string | null, maxFileBytes = DEFAULT_CONTAINER_LOG_MAX_BYTES) {
    this.file = filePath ? new CappedLogFile(filePath, maxFileBytes) : null;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.file?.write(chunk);
    this.memory.append(chunk);
    this.atLineStart = chunk[chunk.length - 1] === NEWLINE;
  }

  /** Adds a line of the harness's own (restarts, signals), marked as such, on a line of its own. */
  note(line: string): void {
    this.append(Buffer.from(`${this.atLineStart ? "" : "\n"}[sidecar-bench] ${line}\n`));
  }

  /**
   * The last `maxLines` lines (at most LOG_TAIL_MAX_LINES), preceded by one line saying
   * what the log file dropped, once it has dropped output: evidence quoting a container's
   * log then says that the log is not whole.
   */
  tail(maxLines = 50): string[] {
    const lines = this.memory.lines(Math.min(maxLines, LOG_TAIL_MAX_LINES));
    const usage = this.usage();
    const dropped = usage && describeDroppedOutput(usage);
    return dropped ? [`[sidecar-bench] log capped: ${dropped}`, ...lines] : lines;
  }

  /** What the log file kept and dropped; null without a file. */
  usage(): ContainerLogUsage | null {
    return this.file?.usage() ?? null;
  }

  /** Writes the file's tail in order and its marker's final count. */
  close(): void {
    this.file?.close();
  }
}
