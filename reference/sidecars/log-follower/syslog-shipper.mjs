// Ships lines to a syslog receiver over TCP: RFC 5424 messages (the line is the MSG, byte
// for byte) in RFC 6587 octet-counting frames, sent in batches — when the oldest queued
// line is batchMs old or batchBytes are queued, like Fluent Bit's `Flush` or the
// OpenTelemetry Collector's batch processor — over one connection kept open.
//
// While the receiver is down (connection refused or reset) it reconnects every
// reconnectMs and, as declared by whenDown, either buffers (up to maxBufferBytes; past
// that the oldest lines go, counted) and sends everything once back, or drops what it
// cannot send (counted). TCP syslog has no acknowledgements: a batch the kernel took just
// before the receiver reset the connection may be lost unnoticed (RFC 6587 §3.4.1's
// problem; RELP exists for it). A batch whose write fails is kept (buffer) and resent.
import { connect } from "node:net";
import { hostname } from "node:os";

const PRI_LOCAL0_INFO = 134; // facility local0 (16) × 8 + severity info (6)
const TICK_MS = 20;

/**
 * @typedef {{ host: string, port: number, whenDown: "buffer" | "drop", batchMs: number, batchBytes: number,
 *   maxBufferBytes: number, reconnectMs: number, onEvent: (event: string, fields?: object) => void,
 *   faults?: { duplicateOnReconnect?: boolean } }} ShipperOptions
 */

export class SyslogShipper {
  /** @param {ShipperOptions} options */
  constructor(options) {
    this.options = options;
    this.faults = options.faults ?? {};
    this.header = ` ${sanitize(hostname())} log-follower ${process.pid} access - `;
    /** @type {Buffer[]} frames not yet written */
    this.queue = [];
    this.queuedBytes = 0;
    this.oldestQueuedAt = 0;
    /** @type {import("node:net").Socket | null} */
    this.socket = null;
    this.connected = false;
    /** Known down: a connection failed or was lost (not before the first try: lines are kept until then). */
    this.down = false;
    this.connecting = false;
    this.everConnected = false;
    this.stopped = false;
    /** @type {Buffer[]} the last batch written (duplicate-on-reconnect resends it) */
    this.lastBatch = [];
    this.writesInFlight = 0;
    this.stats = { queued: 0, shipped: 0, dropped: 0, droppedWhileDown: 0, droppedOverflow: 0, connects: 0, disconnects: 0, resent: 0 };
    this.timer = null;
    this.reconnectTimer = null;
  }

  start() {
    this.connect();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** One line (without its "\n") becomes one syslog message. */
  enqueue(line) {
    if (this.down && this.options.whenDown === "drop") {
      this.drop(1, "down");
      return;
    }
    const message = Buffer.concat([Buffer.from(`<${PRI_LOCAL0_INFO}>1 ${new Date().toISOString()}${this.header}`), line]);
    const frame = Buffer.concat([Buffer.from(`${message.length} `), message]);
    if (this.queue.length === 0) this.oldestQueuedAt = Date.now();
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.stats.queued++;
    while (this.queuedBytes > this.options.maxBufferBytes && this.queue.length > 0) {
      this.queuedBytes -= this.queue.shift().length;
      this.drop(1, "overflow");
    }
  }

  tick() {
    if (!this.connected || this.queue.length === 0) return;
    if (Date.now() - this.oldestQueuedAt >= this.options.batchMs || this.queuedBytes >= this.options.batchBytes) this.send();
  }

  /** Writes everything queued as one batch. */
  send() {
    if (!this.connected || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.write(batch, false);
  }

  write(batch, resend) {
    const socket = this.socket;
    this.writesInFlight++;
    socket.write(Buffer.concat(batch), (error) => {
      this.writesInFlight--;
      if (error) {
        // Never reached the kernel: keep it, in order, ahead of what came since (buffer), or count it lost (drop).
        if (resend) return;
        if (this.options.whenDown === "buffer") this.requeue(batch);
        else this.drop(batch.length, "down");
        return;
      }
      if (!resend) {
        this.stats.shipped += batch.length;
        this.lastBatch = batch;
      }
    });
  }

  requeue(batch) {
    this.queue = [...batch, ...this.queue];
    this.queuedBytes += batch.reduce((sum, frame) => sum + frame.length, 0);
    this.oldestQueuedAt = 0; // overdue: sent as soon as the connection is back
  }

  drop(lines, why) {
    this.stats.dropped += lines;
    if (why === "down") this.stats.droppedWhileDown += lines;
    else this.stats.droppedOverflow += lines;
  }

  connect() {
    if (this.stopped || this.connecting || this.connected) return;
    this.connecting = true;
    const socket = connect({ host: this.options.host, port: this.options.port });
    socket.setNoDelay(true);
    socket.on("connect", () => {
      this.connecting = false;
      this.connected = true;
      this.down = false;
      this.socket = socket;
      this.stats.connects++;
      const reconnect = this.everConnected;
      this.everConnected = true;
      this.options.onEvent("connected", { port: this.options.port, reconnect });
      if (reconnect && this.faults.duplicateOnReconnect && this.lastBatch.length > 0) {
        // The fault: resends the last batch it wrote before the outage, though it had been written whole.
        this.stats.resent += this.lastBatch.length;
        this.write(this.lastBatch, true);
      }
    });
    socket.on("data", () => {}); // the receiver sends nothing; reading notices its reset at once
    socket.on("error", (error) => {
      if (!this.connected) this.options.onEvent("connect-failed", { code: error.code });
    });
    socket.on("end", () => socket.end());
    socket.on("close", () => {
      const wasConnected = this.connected;
      this.connecting = false;
      this.connected = false;
      this.down = true;
      if (this.socket === socket) this.socket = null;
      if (wasConnected) {
        this.stats.disconnects++;
        this.options.onEvent("disconnected", { queued: this.queue.length });
        // drop: what was read but not sent is lost with the backend.
        if (this.options.whenDown === "drop" && this.queue.length > 0) {
          this.drop(this.queue.length, "down");
          this.queue = [];
          this.queuedBytes = 0;
        }
      }
      if (!this.stopped) this.reconnectTimer = setTimeout(() => this.connect(), wasConnected ? 0 : this.options.reconnectMs);
    });
  }

  /**
   * SIGTERM: sends everything queued (waiting for the receiver to come back, until the
   * deadline), then closes the connection and waits for the receiver to close its side,
   * which it does once it has read everything.
   */
  async drain(deadlineMs) {
    const remaining = () => deadlineMs - Date.now();
    while (remaining() > 0 && (this.queue.length > 0 || this.writesInFlight > 0)) {
      if (this.connected) this.send();
      await sleep(Math.min(TICK_MS, Math.max(1, remaining())));
    }
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    const left = this.queue.length;
    if (left > 0) this.drop(left, "down");
    const socket = this.socket;
    if (socket !== null) {
      const closed = new Promise((resolve) => socket.once("close", resolve));
      socket.end();
      await Promise.race([closed, sleep(Math.max(100, remaining()))]);
      socket.destroy();
    }
    return { unsent: left };
  }

  /** Exit without draining. */
  abort() {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An RFC 5424 HOSTNAME: printable US-ASCII without spaces, at most 255 characters, "-" when empty. */
function sanitize(name) {
  const clean = name.replace(/[^\x21-\x7e]/g, "").slice(0, 255);
  return clean === "" ? "-" : clean;
}
