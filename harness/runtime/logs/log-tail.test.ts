import { describe, expect, it } from "vitest";
import { LogTail } from "./log-tail.ts";

const MIB = 1024 * 1024;

describe("log tail in memory", () => {
  it("gives the last lines, an unfinished last line included, across chunk boundaries", () => {
    const tail = new LogTail(1_024, 100);
    for (const chunk of ["one\ntw", "o\nthr", "ee\n", "fo", "ur"]) tail.append(Buffer.from(chunk));
    expect(tail.lines(10)).toEqual(["one", "two", "three", "four"]);
    expect(tail.lines(2)).toEqual(["three", "four"]);
    expect(tail.lines(0)).toEqual([]);
    const empty = new LogTail(1_024, 100);
    empty.append(Buffer.from("\n"));
    expect(empty.lines(5)).toEqual([""]);
  });

  it("holds at most its bytes: older lines go, and a line whose start went is marked", () => {
    const tail = new LogTail(64, 100);
    for (let i = 0; i < 100; i++) tail.append(Buffer.from(`line ${i}\n`));
    expect(tail.heldBytes).toBe(64);
    const lines = tail.lines(100);
    expect(lines.at(-1)).toBe("line 99");
    expect(lines[0]).toMatch(/^\[sidecar-bench: a line of more than \d bytes, its last \d shown\] /);
    expect(lines.slice(1).every((l, i) => l === `line ${100 - lines.length + 1 + i}`)).toBe(true);
  });

  it("shows a line longer than its limit by its end", () => {
    const tail = new LogTail(1_024, 10);
    tail.append(Buffer.from(`${"x".repeat(30)}0123456789\nshort\n`));
    expect(tail.lines(5)).toEqual(["[sidecar-bench: a line of 40 bytes, its last 10 shown] 0123456789", "short"]);
  });

  it("holds 1 MiB of a 1 GiB line without a newline, appended in pipe-sized chunks", () => {
    const tail = new LogTail(MIB, 4_096);
    const chunk = Buffer.alloc(64 * 1024, "#");
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 16_384; i++) tail.append(chunk);
    tail.append(Buffer.from("end"));
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    expect(tail.heldBytes).toBe(MIB);
    expect((heapAfter - heapBefore) / MIB).toBeLessThan(8);
    const [line] = tail.lines(50);
    expect(line).toBe(`[sidecar-bench: a line of more than ${MIB} bytes, its last 4096 shown] ${"#".repeat(4_093)}end`);
  });

  it("takes a single chunk larger than itself by its end", () => {
    const tail = new LogTail(16, 100);
    tail.append(Buffer.from("a\nb\n0123456789abcdef\nlast"));
    expect(tail.heldBytes).toBe(16);
    // The last 16 bytes: "56789abcdef\nlast".
    expect(tail.lines(5)).toEqual(["[sidecar-bench: a line of more than 11 bytes, its last 11 shown] 56789abcdef", "last"]);
  });
});
