// Calls back at each send time of an arrival schedule, on a high-resolution clock. Node's
// timers fire up to ~1 ms late and only in whole ms, so the pacer sleeps on a timer until
// shortly before a send is due and then polls with setImmediate, which lets responses in
// between polls (a synchronous spin would hold them back and add its wait to their times).
//
// Written with callbacks on one long-lived object, not as an async loop: at 10,000 req/s an
// awaited setImmediate per poll allocated a promise and a continuation each time (hundreds
// of thousands a second), and the garbage collector's helper threads then took the
// generator's CPU in slices of milliseconds (bench/loadgen-vs-wrk.ts, pacing error p99).
// Kept small on purpose, too: V8 re-optimizes the hot loop at every round, and the larger
// the function, the longer that compilation competes with the sends for the CPU.
import { performance } from "node:perf_hooks";

/** How far before a send the coarse timer hands over to setImmediate polling. */
const TIMER_SLACK_MS = 1.5;
/** Longest stretch the pacer holds the event loop while catching up on overdue sends. */
const MAX_BURST_MS = 1;

export interface PacedSchedule {
  /** Send times in ms after startMs, non-decreasing (arrivalOffsetsMs). */
  offsetsMs: Iterator<number>;
  /** performance.now() of offset 0. */
  startMs: number;
  /** Sends are due in [0, durationMs). */
  durationMs: number;
  /** At most this many sends. */
  maxRequests: number;
  /** Aborting stops the schedule at once (no further sends). */
  signal?: AbortSignal;
  /** Called once per due send, in order, as soon after dueMs as the event loop allows. */
  onDue: (offsetMs: number, dueMs: number, nowMs: number) => void;
}

export interface PacedEnd {
  /** The part of the schedule that was used: durationMs, or shorter if maxRequests or the signal ended it. */
  sendWindowMs: number;
  stoppedBy: "duration" | "maxRequests" | "signal";
  /** Sends due (onDue calls). */
  scheduled: number;
}

/** Runs the schedule; resolves when it ends (never rejects: an error thrown by onDue ends it and rejects). */
export function paceSchedule(schedule: PacedSchedule): Promise<PacedEnd> {
  return new Promise((resolve, reject) => new SendPacer(schedule, resolve, reject).start());
}

class SendPacer {
  private nextOffsetMs: number;
  private scheduled = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private ended = false;
  /** One bound callback for every timer and poll, so polling allocates no closure. */
  private readonly tick = (): void => this.run();
  private readonly onAbort = (): void => {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.run();
  };

  constructor(
    private readonly schedule: PacedSchedule,
    private readonly resolve: (end: PacedEnd) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.nextOffsetMs = schedule.offsetsMs.next().value as number;
  }

  start(): void {
    this.schedule.signal?.addEventListener("abort", this.onAbort, { once: true });
    this.run();
  }

  /** Sends everything due (for at most MAX_BURST_MS), then arranges to be called again. */
  private run(): void {
    if (this.ended) return;
    this.timer = undefined;
    this.immediate = undefined;
    const { startMs, durationMs, maxRequests, signal, onDue, offsetsMs } = this.schedule;
    let nowMs = performance.now();
    const burstEndMs = nowMs + MAX_BURST_MS;
    try {
      for (;;) {
        if (this.ended) return; // a callback's abort already ended it (onAbort runs run() at once)
        const offsetMs = this.nextOffsetMs;
        if (offsetMs >= durationMs) return this.end(durationMs, "duration");
        if (this.scheduled >= maxRequests) return this.end(offsetMs, "maxRequests");
        if (signal?.aborted) return this.end(Math.min(nowMs - startMs, durationMs), "signal");
        const dueMs = startMs + offsetMs;
        if (nowMs < dueMs) {
          const sleepMs = dueMs - nowMs - TIMER_SLACK_MS;
          if (sleepMs >= 1) this.timer = setTimeout(this.tick, Math.floor(sleepMs));
          else this.immediate = setImmediate(this.tick);
          return;
        }
        this.scheduled++;
        onDue(offsetMs, dueMs, nowMs);
        this.nextOffsetMs = offsetsMs.next().value as number;
        nowMs = performance.now();
        if (nowMs > burstEndMs) {
          // Behind schedule: still let responses in, or their times would include our burst.
          this.immediate = setImmediate(this.tick);
          return;
        }
      }
    } catch (error) {
      this.ended = true;
      signal?.removeEventListener("abort", this.onAbort);
      this.reject(error);
    }
  }

  private end(sendWindowMs: number, stoppedBy: PacedEnd["stoppedBy"]): void {
    this.ended = true;
    this.schedule.signal?.removeEventListener("abort", this.onAbort);
    this.resolve({ sendWindowMs, stoppedBy, scheduled: this.scheduled });
  }
}
