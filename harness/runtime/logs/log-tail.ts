// The latest output of a container in memory, for logs(): a byte ring, so what it holds
// is bounded in bytes whatever the lines look like (a line without a newline may be
// endless). Appending copies bytes and nothing else; lines are cut only when read.
import { LOG_LINE_MAX_BYTES, LOG_TAIL_MAX_BYTES } from "./log-limits.ts";

const INITIAL_BYTES = 16 * 1024;
const NEWLINE = 0x0a;

export class LogTail {
  private ring = Buffer.alloc(0);
  /** Offset of the oldest byte held. */
  private start = 0;
  private used = 0;
  private received = 0;

  constructor(
    private readonly maxBytes = LOG_TAIL_MAX_BYTES,
    private readonly maxLineBytes = LOG_LINE_MAX_BYTES,
  ) {}

  /** Bytes currently held (≤ maxBytes). */
  get heldBytes(): number {
    return this.used;
  }

  append(chunk: Buffer): void {
    this.received += chunk.length;
    const data = chunk.length > this.maxBytes ? chunk.subarray(chunk.length - this.maxBytes) : chunk;
    if (this.used + data.length > this.ring.length && this.ring.length < this.maxBytes) this.grow(this.used + data.length);
    const capacity = this.ring.length;
    if (data.length >= capacity) {
      data.copy(this.ring, 0, data.length - capacity);
      this.start = 0;
      this.used = capacity;
      return;
    }
    const end = (this.start + this.used) % capacity;
    const copied = data.copy(this.ring, end);
    if (copied < data.length) data.copy(this.ring, 0, copied);
    this.used += data.length;
    if (this.used > capacity) {
      this.start = (this.start + this.used - capacity) % capacity;
      this.used = capacity;
    }
  }

  /**
   * The last `maxLines` lines (an unfinished last line included). A line whose start is
   * no longer held, or longer than maxLineBytes, is shown by its end, marked as cut.
   */
  lines(maxLines: number): string[] {
    if (maxLines <= 0 || this.used === 0) return [];
    const bytes = this.ordered();
    const lines: string[] = [];
    let end = bytes.length;
    if (bytes[end - 1] === NEWLINE) end--;
    while (lines.length < maxLines) {
      // (lastIndexOf counts a negative offset from the end: guard the empty rest)
      const newline = end > 0 ? bytes.lastIndexOf(NEWLINE, end - 1) : -1;
      const lineStart = newline + 1;
      const startKept = newline >= 0 || this.received === this.used;
      lines.push(this.show(bytes.subarray(lineStart, end), startKept));
      if (newline < 0) break;
      end = newline;
    }
    return lines.reverse();
  }

  private show(line: Buffer, startKept: boolean): string {
    if (startKept && line.length <= this.maxLineBytes) return line.toString("utf8");
    const shown = line.subarray(Math.max(0, line.length - this.maxLineBytes)).toString("utf8");
    const what = startKept ? `a line of ${line.length} bytes` : `a line of more than ${line.length} bytes`;
    return `[sidecar-bench: ${what}, its last ${Math.min(line.length, this.maxLineBytes)} shown] ${shown}`;
  }

  private ordered(): Buffer {
    const capacity = this.ring.length;
    if (this.start + this.used <= capacity) return this.ring.subarray(this.start, this.start + this.used);
    return Buffer.concat([this.ring.subarray(this.start), this.ring.subarray(0, (this.start + this.used) % capacity)]);
  }

  /** Grows the ring (while below maxBytes) so quiet containers hold little memory. */
  private grow(needed: number): void {
    const size = Math.min(this.maxBytes, Math.max(needed, this.ring.length * 2, INITIAL_BYTES));
    const next = Buffer.alloc(size);
    this.ordered().copy(next);
    this.ring = next;
    this.start = 0;
  }
}
