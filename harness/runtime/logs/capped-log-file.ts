// A container's log file, bounded as the kubelet bounds it (containerLogMaxSize) but
// keeping the head as well as the tail: the first half of the cap as written, a marker
// line, then the latest bytes in a ring that is put back in order when the file is
// closed. The file never exceeds its cap, at any moment of the run. Writes are
// synchronous and positional: nothing queues up in memory behind a fast writer.
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import type { ContainerLogUsage } from "../pod-runtime.ts";
import { formatBytes } from "./format-bytes.ts";

/** The marker between head and tail: fixed width, so the tail's place is known before the count is. */
export const MARKER_BYTES = 256;

export class CappedLogFile {
  private fd: number | null = null;
  private readonly headBytes: number;
  private readonly tailBytes: number;
  private written = 0;
  private headUsed = 0;
  /** Where the next tail byte goes, within the ring. */
  private ringNext = 0;
  private ringUsed = 0;
  private failure: string | undefined;

  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    const room = maxBytes - MARKER_BYTES;
    if (room < 2) throw new Error(`log cap ${maxBytes} bytes leaves no room beside the ${MARKER_BYTES}-byte marker`);
    this.headBytes = Math.floor(room / 2);
    this.tailBytes = room - this.headBytes;
    // "w+": positional writes (no O_APPEND) and a read when the tail is put in order; one new file per container and pod.
    this.attempt(() => (this.fd = openSync(path, "w+")));
  }

  write(chunk: Buffer): void {
    this.written += chunk.length;
    if (this.fd === null) return;
    let rest = chunk;
    if (this.headUsed < this.headBytes) {
      const head = rest.subarray(0, this.headBytes - this.headUsed);
      if (!this.writeAt(head, this.headUsed)) return;
      this.headUsed += head.length;
      rest = rest.subarray(head.length);
      if (rest.length === 0) return;
    }
    if (this.ringUsed === 0 && !this.writeMarker(this.runningMarker())) return;
    // Of a chunk longer than the ring only its last tailBytes survive; the ring turns as if all were written.
    if (rest.length > this.tailBytes) {
      this.ringNext = (this.ringNext + rest.length - this.tailBytes) % this.tailBytes;
      rest = rest.subarray(rest.length - this.tailBytes);
    }
    const first = rest.subarray(0, this.tailBytes - this.ringNext);
    if (!this.writeAt(first, this.ringOffset + this.ringNext)) return;
    if (first.length < rest.length && !this.writeAt(rest.subarray(first.length), this.ringOffset)) return;
    this.ringNext = (this.ringNext + rest.length) % this.tailBytes;
    this.ringUsed = Math.min(this.tailBytes, this.ringUsed + rest.length);
  }

  usage(): ContainerLogUsage {
    return {
      file: this.path,
      maxBytes: this.maxBytes,
      writtenBytes: this.written,
      droppedBytes: this.written - this.headUsed - this.ringUsed,
      ...(this.failure ? { error: this.failure } : {}),
    };
  }

  /** Puts the tail in order, writes the final count into the marker and closes the file. Safe twice. */
  close(): ContainerLogUsage {
    const fd = this.fd;
    if (fd !== null && this.ringUsed > 0) {
      this.attempt(() => {
        if (this.ringUsed === this.tailBytes && this.ringNext !== 0) {
          // A full ring's oldest byte is where the next would go: rotate it back into order.
          const ring = Buffer.allocUnsafe(this.tailBytes);
          readSync(fd, ring, 0, this.tailBytes, this.ringOffset);
          writeSync(fd, Buffer.concat([ring.subarray(this.ringNext), ring.subarray(0, this.ringNext)]), 0, this.tailBytes, this.ringOffset);
        }
        ftruncateSync(fd, this.ringOffset + this.ringUsed);
      });
      this.writeMarker(this.finalMarker());
    }
    if (this.fd !== null) this.attempt(() => closeSync(fd!));
    this.fd = null;
    return this.usage();
  }

  private get ringOffset(): number {
    return this.headBytes + MARKER_BYTES;
  }

  private runningMarker(): string {
    return `[sidecar-bench] log over its cap of ${formatBytes(this.maxBytes)}: above, the first ${formatBytes(this.headBytes)}; below, the latest ${formatBytes(this.tailBytes)} (in ring order until the run ends)`;
  }

  private finalMarker(): string {
    const { droppedBytes, writtenBytes } = this.usage();
    return `[sidecar-bench] log capped at ${formatBytes(this.maxBytes)}: ${droppedBytes} bytes (${formatBytes(droppedBytes)}) dropped here, between the first ${formatBytes(this.headBytes)} and the last ${formatBytes(this.ringUsed)} of ${formatBytes(writtenBytes)} written`;
  }

  /** The marker on a line of its own (the head may end mid-line), padded to its fixed width. */
  private writeMarker(text: string): boolean {
    const line = Buffer.alloc(MARKER_BYTES, " ");
    line.write("\n", 0);
    line.write(text, 1, MARKER_BYTES - 2);
    line.write("\n", MARKER_BYTES - 1);
    return this.writeAt(line, this.headBytes);
  }

  private writeAt(data: Buffer, position: number): boolean {
    return this.attempt(() => {
      for (let done = 0; done < data.length; ) done += writeSync(this.fd!, data, done, data.length - done, position + done);
    });
  }

  /** A failed write (a full disk) ends the file, not the run: later output counts as dropped. */
  private attempt(action: () => void): boolean {
    try {
      action();
      return true;
    } catch (error) {
      this.failure ??= (error as Error).message;
      if (this.fd !== null) {
        try {
          closeSync(this.fd);
        } catch {
          // Closing a failed file can fail too; it is abandoned either way.
        }
      }
      this.fd = null;
      return false;
    }
  }
}
