// A container's output: the last lines in memory (for error messages and checks) and
// the whole stream in a file, both bounded so a sidecar that floods its logs cannot
// exhaust the harness's memory or the disk.
import { createWriteStream, type WriteStream } from "node:fs";

export class LogBuffer {
  private readonly lines: string[] = [];
  private partial = "";
  private fileBytes = 0;
  private truncated = false;
  private readonly file: WriteStream | null;
  totalLines = 0;

  constructor(
    filePath: string | null,
    private readonly maxLines = 2_000,
    private readonly maxFileBytes = 64 * 1024 * 1024,
  ) {
    this.file = filePath ? createWriteStream(filePath, { flags: "a" }) : null;
    this.file?.on("error", () => undefined); // a full disk must not crash the run
  }

  append(chunk: Buffer): void {
    if (this.file && !this.truncated) {
      if (this.fileBytes + chunk.length <= this.maxFileBytes) {
        this.file.write(chunk);
        this.fileBytes += chunk.length;
      } else {
        this.file.write(`\n[sidecar-bench: log file truncated at ${this.maxFileBytes} bytes]\n`);
        this.truncated = true;
      }
    }
    const text = this.partial + chunk.toString("utf8");
    const parts = text.split("\n");
    this.partial = parts.pop() ?? "";
    if (this.partial.length > 64 * 1024) {
      parts.push(this.partial);
      this.partial = "";
    }
    for (const line of parts) this.push(line);
  }

  /** Adds a line of the harness's own (restarts, signals), marked as such. */
  note(line: string): void {
    this.push(`[sidecar-bench] ${line}`);
    this.file?.write(`[sidecar-bench] ${line}\n`);
  }

  tail(maxLines = 50): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-Math.min(maxLines, this.maxLines));
  }

  close(): Promise<void> {
    return new Promise((done) => (this.file ? this.file.end(done) : done()));
  }

  private push(line: string): void {
    this.totalLines++;
    this.lines.push(line);
    // Trim in batches so a flood costs amortised O(1) per line.
    if (this.lines.length > 2 * this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }
}
