// The relay's delivery to its backend: a bounded FIFO of OTLP export requests, forwarded as
// received (bodies and their Content-Type/Content-Encoding untouched), one at a time, in
// order. A batch interval holds what arrived for a moment (as a collector's batch processor
// does), so there is something to flush on SIGTERM. While the backend refuses or fails:
//   buffer — keep everything (up to the bound) and retry with back-off; what arrives past
//            the bound is refused, so the primary's exporter retries or drops it itself;
//   drop   — drop what is queued when an attempt fails; what arrives meanwhile is kept
//            only until the next attempt (one retry interval), which drops it again while
//            the backend stays down — memory stays flat, and the first answer ends it.
// Every export is accounted for: forwarded, rejected by the backend (4xx: retrying cannot
// help), dropped while down, refused when full, or lost at exit.

/** What one forward attempt says about the backend. */
export const Outcome = Object.freeze({ delivered: "delivered", rejected: "rejected", failed: "failed" });

export class ExportQueue {
  /**
   * @param {{ send: (item: object) => Promise<"delivered" | "rejected" | "failed">, whenDown: "buffer" | "drop",
   *   maxBytes: number, batchMs: number, retryMinMs?: number, retryMaxMs?: number,
   *   onEvent?: (event: string, extra: object) => void, hooks?: object }} options
   */
  constructor(options) {
    this.send = options.send;
    this.whenDown = options.whenDown;
    this.maxBytes = options.maxBytes;
    this.batchMs = options.batchMs;
    this.retryMinMs = options.retryMinMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 1_000;
    this.onEvent = options.onEvent ?? (() => {});
    /** Fault hooks: onDown(queue) each time an attempt fails, onUp(queue) when the backend answers again. */
    this.hooks = options.hooks ?? {};
    this.items = [];
    this.bytes = 0;
    this.backendDown = false;
    this.consecutiveFailures = 0;
    this.stats = { accepted: 0, refusedFull: 0, forwarded: 0, rejected: 0, droppedWhileDown: 0, attempts: 0, failures: 0, lostAtExit: 0 };
    this.timer = undefined;
    this.running = undefined;
    this.closed = false;
  }

  get length() {
    return this.items.length;
  }

  /** Queues an export; false when the queue is full (the caller answers 503). */
  offer(item) {
    if (this.closed) return false;
    if (this.bytes + item.body.length > this.maxBytes && this.items.length > 0) {
      this.stats.refusedFull++;
      return false;
    }
    this.items.push(item);
    this.bytes += item.body.length;
    this.stats.accepted++;
    this.schedule(this.backendDown ? this.retryDelayMs() : this.batchMs);
    return true;
  }

  /** Removes and counts every queued export (a fault's loss, or a drop policy's). */
  discardAll(reason) {
    const count = this.items.length;
    this.items = [];
    this.bytes = 0;
    if (count > 0) this.onEvent("discarded", { count, reason });
    return count;
  }

  schedule(delayMs) {
    if (this.timer !== undefined || this.running !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (this.items.length > 0) this.schedule(this.backendDown ? this.retryDelayMs() : this.batchMs);
      });
    }, delayMs);
  }

  retryDelayMs() {
    return Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(Math.max(0, this.consecutiveFailures - 1), 10));
  }

  /** Forwards queued exports in order until the queue is empty or an attempt fails; true when empty. */
  async drain() {
    while (this.items.length > 0) {
      const item = this.items[0];
      this.stats.attempts++;
      let outcome;
      try {
        outcome = await this.send(item);
      } catch {
        outcome = Outcome.failed;
      }
      if (outcome === Outcome.failed) {
        this.stats.failures++;
        this.consecutiveFailures++;
        if (!this.backendDown) {
          this.backendDown = true;
          this.onEvent("backend-down", { queued: this.items.length });
        }
        this.hooks.onDown?.(this);
        if (this.whenDown === "drop") {
          this.stats.droppedWhileDown += this.items.length;
          this.discardAll("backend down, whenBackendDown drop");
        }
        return false;
      }
      this.consecutiveFailures = 0;
      if (this.backendDown) {
        this.backendDown = false;
        this.onEvent("backend-up", { queued: this.items.length });
        this.hooks.onUp?.(this);
      }
      // The head may have been discarded by a hook meanwhile.
      if (this.items[0] === item) {
        this.items.shift();
        this.bytes -= item.body.length;
      }
      if (outcome === Outcome.delivered) this.stats.forwarded++;
      else {
        this.stats.rejected++;
        this.onEvent("rejected-by-backend", { signal: item.signal, bytes: item.body.length });
      }
    }
    return true;
  }

  /**
   * SIGTERM: no more exports are taken; everything queued is forwarded, retrying until
   * `deadlineMs` (performance.now()); answers how many were lost.
   */
  async flush(deadlineMs) {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
    while (this.items.length > 0 && performance.now() < deadlineMs) {
      if (await this.drain()) break;
      const waitMs = Math.min(this.retryDelayMs(), Math.max(0, deadlineMs - performance.now()));
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    this.stats.lostAtExit += this.items.length;
    return this.items.length;
  }
}
