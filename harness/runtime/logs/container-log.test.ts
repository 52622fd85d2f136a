import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ContainerLog } from "./container-log.ts";
import { formatBytes } from "./format-bytes.ts";

const logFile = () => join(mkdtempSync(join(tmpdir(), "sb-container-log-")), "c.log");

describe("container log", () => {
  it("puts the harness's notes on lines of their own, in the file and the tail", () => {
    const log = new ContainerLog(logFile());
    log.append(Buffer.from("starting\nhalf a li"));
    log.note("process exited with code 1");
    log.append(Buffer.from("again\n"));
    log.note("restarted");
    log.close();
    const expected = ["starting", "half a li", "[sidecar-bench] process exited with code 1", "again", "[sidecar-bench] restarted"];
    expect(log.tail(10)).toEqual(expected);
    expect(readFileSync(log.usage()!.file, "utf8")).toBe(`${expected.join("\n")}\n`);
  });

  it("says in front of its tail how much the file dropped, once it has", () => {
    const log = new ContainerLog(logFile(), 64 * 1024);
    log.append(Buffer.from("quiet\n"));
    expect(log.tail(5)).toEqual(["quiet"]);
    for (let i = 0; i < 100; i++) log.append(Buffer.from(`${"y".repeat(1_023)}\n`));
    const [notice, ...lines] = log.tail(3);
    expect(notice).toBe(`[sidecar-bench] log capped: the container wrote 100.0 KiB, 36.3 KiB dropped; its log file keeps the first and the last 31.9 KiB (${log.usage()!.file})`);
    expect(lines).toHaveLength(3);
    expect(log.usage()).toMatchObject({ writtenBytes: 102_406, droppedBytes: 102_406 - (64 * 1024 - 256), maxBytes: 64 * 1024 });
  });

  it("keeps only the tail without a file", () => {
    const log = new ContainerLog(null);
    log.append(Buffer.from("a\nb\n"));
    expect(log.tail(1)).toEqual(["b"]);
    expect(log.usage()).toBeNull();
  });
});

describe("formatBytes", () => {
  it("says sizes in binary units", () => {
    expect([12, 1_024, 1_536, 10 * 1024 * 1024, 3.3 * 2 ** 30].map(formatBytes)).toEqual(["12 bytes", "1 KiB", "1.5 KiB", "10 MiB", "3.3 GiB"]);
  });
});
