import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CappedLogFile, MARKER_BYTES } from "./capped-log-file.ts";

const file = () => join(mkdtempSync(join(tmpdir(), "sb-capped-")), "c.log");
/** Bytes 0..n-1 of a stream whose byte i is a printable letter derived from i. */
const stream = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, i) => 97 + ((from + i) % 26)));

describe("capped log file", () => {
  it("writes everything while under the cap, without marker", () => {
    const log = new CappedLogFile(file(), 1_024);
    log.write(Buffer.from("line one\n"));
    log.write(Buffer.from("line two\n"));
    expect(log.close()).toMatchObject({ writtenBytes: 18, droppedBytes: 0, maxBytes: 1_024 });
    expect(readFileSync(log.path, "utf8")).toBe("line one\nline two\n");
  });

  it("keeps the head and the latest tail in order, the marker between them with the count dropped", () => {
    const maxBytes = MARKER_BYTES + 100; // head 50, tail 50
    const log = new CappedLogFile(file(), maxBytes);
    // Uneven chunk sizes: the ring wraps in the middle of chunks.
    let at = 0;
    for (const size of [7, 30, 13, 45, 2, 61, 17, 9, 33]) {
      log.write(stream(at, at + size));
      at += size;
      expect(statSync(log.path).size).toBeLessThanOrEqual(maxBytes);
    }
    const usage = log.close();
    const text = readFileSync(log.path, "latin1");
    expect(text.length).toBe(maxBytes);
    expect(text.slice(0, 50)).toBe(stream(0, 50).toString("latin1"));
    expect(text.slice(50 + MARKER_BYTES)).toBe(stream(at - 50, at).toString("latin1"));
    expect(usage).toMatchObject({ writtenBytes: at, droppedBytes: at - 100 });
    expect(text.slice(50, 50 + MARKER_BYTES)).toMatch(new RegExp(`^\\n\\[sidecar-bench\\] log capped at 356 bytes: ${at - 100} bytes \\(${at - 100} bytes\\) dropped here, between the first 50 bytes and the last 50 bytes of ${at} bytes written +\\n$`));
  });

  it("keeps only the end of a chunk longer than the tail, and a tail that never filled as it came", () => {
    const maxBytes = MARKER_BYTES + 100;
    const huge = new CappedLogFile(file(), maxBytes);
    huge.write(stream(0, 10_000));
    huge.close();
    expect(readFileSync(huge.path, "latin1").slice(50 + MARKER_BYTES)).toBe(stream(9_950, 10_000).toString("latin1"));

    const partial = new CappedLogFile(file(), maxBytes);
    partial.write(stream(0, 70));
    expect(partial.close()).toMatchObject({ writtenBytes: 70, droppedBytes: 0 });
    const text = readFileSync(partial.path, "latin1");
    expect(text.length).toBe(70 + MARKER_BYTES);
    expect(text.slice(50 + MARKER_BYTES)).toBe(stream(50, 70).toString("latin1"));
  });

  it("shows a running marker while the run lasts, and stays within its cap at every write", () => {
    const log = new CappedLogFile(file(), 64 * 1024);
    for (let i = 0; i < 200; i++) log.write(stream(i * 1_000, (i + 1) * 1_000));
    expect(statSync(log.path).size).toBe(64 * 1024);
    expect(readFileSync(log.path, "latin1")).toContain("[sidecar-bench] log over its cap of 64 KiB: above, the first 31.9 KiB; below, the latest 31.9 KiB (in ring order until the run ends)");
    expect(log.usage().droppedBytes).toBe(200_000 - (64 * 1024 - MARKER_BYTES));
    log.close();
    expect(log.close().droppedBytes).toBe(200_000 - (64 * 1024 - MARKER_BYTES)); // safe twice
  });

  it("counts output as dropped, and says why, when the disk is full", () => {
    // /dev/full answers every write with ENOSPC.
    const log = new CappedLogFile("/dev/full", 1_024);
    log.write(Buffer.from("lost\n"));
    log.write(Buffer.from("lost too\n"));
    expect(log.close()).toMatchObject({ writtenBytes: 14, droppedBytes: 14, error: expect.stringMatching(/ENOSPC/) });
  });

  it("refuses a cap without room beside the marker", () => {
    expect(() => new CappedLogFile(file(), MARKER_BYTES)).toThrow(/leaves no room/);
  });
});
