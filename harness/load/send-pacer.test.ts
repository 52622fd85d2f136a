import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { paceSchedule } from "./send-pacer.ts";

function* offsets(values: number[]): Generator<number, never> {
  for (const v of values) yield v;
  for (;;) yield Number.POSITIVE_INFINITY;
}

describe("paceSchedule", () => {
  it("calls back once per send, in order, never before its time", async () => {
    const startMs = performance.now();
    const seen: Array<{ offsetMs: number; lateMs: number }> = [];
    const end = await paceSchedule({
      offsetsMs: offsets([0, 0, 2, 5, 5.5, 12]),
      startMs,
      durationMs: 20,
      maxRequests: 100,
      onDue: (offsetMs, dueMs, nowMs) => seen.push({ offsetMs, lateMs: nowMs - dueMs }),
    });
    expect(seen.map((s) => s.offsetMs)).toEqual([0, 0, 2, 5, 5.5, 12]);
    for (const s of seen) expect(s.lateMs).toBeGreaterThanOrEqual(0);
    expect(end).toEqual({ sendWindowMs: 20, stoppedBy: "duration", scheduled: 6 });
  });

  it("stops at maxRequests, with the send window up to the first send it did not make", async () => {
    const seen: number[] = [];
    const end = await paceSchedule({
      offsetsMs: offsets([0, 1, 2, 3, 4]),
      startMs: performance.now(),
      durationMs: 1000,
      maxRequests: 3,
      onDue: (offsetMs) => seen.push(offsetMs),
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(end).toEqual({ sendWindowMs: 3, stoppedBy: "maxRequests", scheduled: 3 });
  });

  it("ends at once when its signal aborts during a long wait, sending nothing more", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const startMs = performance.now();
    setTimeout(() => controller.abort(), 30);
    const end = await paceSchedule({
      offsetsMs: offsets([0, 60_000]),
      startMs,
      durationMs: 120_000,
      maxRequests: 10,
      signal: controller.signal,
      onDue: (offsetMs) => seen.push(offsetMs),
    });
    expect(seen).toEqual([0]);
    expect(end.stoppedBy).toBe("signal");
    expect(end.scheduled).toBe(1);
    // The window is the time until the abort, not the minute the next send was due at.
    expect(end.sendWindowMs).toBeGreaterThanOrEqual(25);
    expect(end.sendWindowMs).toBeLessThan(10_000);
  });

  it("stops after the send whose callback aborted the signal, and ends once", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const end = await paceSchedule({
      offsetsMs: offsets([0, 0, 0, 0]),
      startMs: performance.now(),
      durationMs: 10,
      maxRequests: 10,
      signal: controller.signal,
      onDue: (offsetMs) => {
        seen.push(offsetMs);
        if (seen.length === 2) controller.abort();
      },
    });
    expect(seen).toEqual([0, 0]);
    expect(end.stoppedBy).toBe("signal");
    expect(end.scheduled).toBe(2);
  });

  it("sends overdue requests in bursts but still lets the event loop run between them", async () => {
    // 2,000 sends all due at once: the pacer yields every millisecond or so, so an
    // immediate queued meanwhile runs before the last send.
    let immediateRanAt = -1;
    let sent = 0;
    setImmediate(() => (immediateRanAt = sent));
    await paceSchedule({
      offsetsMs: offsets(new Array<number>(2000).fill(0)),
      startMs: performance.now(),
      durationMs: 1,
      maxRequests: 10_000,
      onDue: () => {
        sent++;
        const until = performance.now() + 0.01;
        while (performance.now() < until); // 10 µs of work per send: 20 ms in all
      },
    });
    expect(sent).toBe(2000);
    expect(immediateRanAt).toBeGreaterThan(0);
    expect(immediateRanAt).toBeLessThan(2000);
  });

  it("rejects with the error a callback throws, and calls back no more", async () => {
    const seen: number[] = [];
    await expect(
      paceSchedule({
        offsetsMs: offsets([0, 1, 2]),
        startMs: performance.now(),
        durationMs: 10,
        maxRequests: 10,
        onDue: (offsetMs) => {
          seen.push(offsetMs);
          if (offsetMs === 1) throw new Error("boom");
        },
      }),
    ).rejects.toThrow("boom");
    expect(seen).toEqual([0, 1]);
  });
});
