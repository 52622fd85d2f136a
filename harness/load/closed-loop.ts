// Closed-loop load for capacity (DESIGN.md, measuring rule 2): N keep-alive connections,
// each sending its next request as soon as the previous one is answered, and a
// microsecond histogram of each exchange (request written → response complete).
//
// Why not autocannon any more: its per-response path (http-parser-js building header
// objects, per-request clones and events, its own ms histograms) cost ~1.5–2.3× wrk's CPU
// per request on this project's 2-core machines, so the generator, not the server, set
// the ceiling at 64 connections (bench/loadgen-vs-wrk.ts). Here each connection writes one
// prebuilt request buffer and scans the answer in place (http1-response-parser.ts), reading
// into one reused buffer per connection (net's `onread`), with no per-request timer.
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { createLatencyHistogram, LatencyTally, summarize, type LatencyHistogram, type PercentilesUs } from "../measure/histogram.ts";
import { Http1ResponseParser, type ResponseEnd } from "./http1-response-parser.ts";
import type { HttpRequestSpec } from "./kserve-request.ts";
import { classifyTransportError, countError, type ErrorCounts } from "./load-errors.ts";
import { assertLoadTarget } from "./target-guard.ts";

export interface ClosedLoopProgress {
  elapsedMs: number;
  completed: number;
}

export interface ClosedLoopOptions {
  /** Base URL (origin) of the target, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Built once and sent unchanged; omitted → GET /. */
  request?: HttpRequestSpec;
  connections: number;
  durationMs: number;
  /** Hard cap on requests over all connections; must be ≥ connections. */
  maxRequests: number;
  /** A request unanswered this long counts as "timeout" and its connection is replaced. */
  timeoutMs: number;
  allowRemote?: boolean;
  /** Aborting stops the run at once (requests in flight are not counted). */
  signal?: AbortSignal;
  /** Called about once a second. */
  onProgress?: (progress: ClosedLoopProgress) => void;
}

export interface ClosedLoopSummary {
  kind: "closed-loop";
  startedAt: string;
  /** Start → last response received: the window the throughput is computed over. */
  durationMs: number;
  connections: number;
  /** Responses received, any status. */
  requests: number;
  ok: number;
  /** requests / durationMs, in requests per second. */
  throughputPerSec: number;
  okPerSec: number;
  /** Non-2xx statuses by code, plus "timeout" and "connection". */
  errors: ErrorCounts;
  non2xx: number;
  /** Only 2xx responses enter the histogram. */
  latencyUs: PercentilesUs;
}

export interface ClosedLoopResult {
  summary: ClosedLoopSummary;
  latency: LatencyHistogram;
}

const PROGRESS_INTERVAL_MS = 1000;
/** Bytes each connection reads into at a time (reused for every read of that connection). */
const READ_BUFFER_BYTES = 64 * 1024;
/** After a failed connection, wait this long before the next attempt, so a refused port is not a busy loop. */
const RECONNECT_DELAY_MS = 10;

function validate(o: ClosedLoopOptions): void {
  for (const [name, value] of [["connections", o.connections], ["maxRequests", o.maxRequests]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`closed loop: ${name} must be an integer ≥ 1, got ${value}`);
  }
  for (const [name, value] of [["durationMs", o.durationMs], ["timeoutMs", o.timeoutMs]] as const) {
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`closed loop: ${name} must be a positive number, got ${value}`);
  }
  // Kept from the autocannon days: each connection must be able to send at least one request.
  if (o.maxRequests < o.connections) {
    throw new Error(`closed loop: maxRequests (${o.maxRequests}) must be ≥ connections (${o.connections})`);
  }
}

/** The request's bytes, built once: request line, Host, the spec's headers, Content-Length, body. */
export function requestBytes(target: URL, request: HttpRequestSpec | undefined): Buffer {
  const method = request?.method ?? "GET";
  const path = request?.path ?? "/";
  const body = request?.body ?? Buffer.alloc(0);
  const headers = Object.entries(request?.headers ?? {});
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`closed loop: request header ${JSON.stringify(name)} holds a line break`);
  }
  const has = (name: string): boolean => headers.some(([n]) => n.toLowerCase() === name);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (!has("host")) head += `Host: ${target.host}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  if (!has("content-length") && (body.length > 0 || method === "POST")) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  validate(options);
  const target = assertLoadTarget(options.url, options.allowRemote ?? false);
  if (target.protocol !== "http:") throw new Error(`closed loop: only http: targets are supported, got ${target.href}`);
  return await new Promise<ClosedLoopResult>((resolve) => new ClosedLoopRun(options, target, resolve).start());
}

// The run and its connections are module-level classes, not closures made per run: V8
// optimizes a class's methods for the maps of its instances, and a class declared inside the
// run gave each trial new maps, so every trial deoptimized and recompiled the hot path
// (20–38 compiles per trial; 2 s trials spent ~8 % more CPU per request for it here).

/** One closed-loop trial: its counters, its connections and its end. */
class ClosedLoopRun {
  readonly host: string;
  readonly port: number;
  readonly bytes: Buffer;
  readonly latency = new LatencyTally(createLatencyHistogram());
  readonly errors: ErrorCounts = {};
  requests = 0;
  ok = 0;
  sent = 0;
  lastResponseMs = Number.NaN;
  stopped = false;
  private finished = false;
  private readonly connections: Connection[] = [];
  readonly timers: NodeJS.Timeout[] = [];
  private readonly startedAt = new Date().toISOString();
  private readonly startMs = performance.now();
  private readonly onAbort = (): void => this.stop();

  constructor(
    readonly options: ClosedLoopOptions,
    target: URL,
    private readonly resolve: (result: ClosedLoopResult) => void,
  ) {
    this.port = Number(target.port || 80);
    this.host = target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname;
    this.bytes = requestBytes(target, options.request);
  }

  start(): void {
    const { options } = this;
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
    if (options.signal?.aborted) {
      this.stop();
      return;
    }
    for (let i = 0; i < options.connections; i++) this.connections.push(new Connection(this));
    for (const c of this.connections) c.open();
    this.timers.push(setTimeout(() => this.stop(), options.durationMs));
    // One sweep for all request timeouts instead of a timer per request.
    const sweepMs = Math.max(10, Math.min(250, options.timeoutMs / 4));
    this.timers.push(
      setInterval(() => {
        const nowMs = performance.now();
        for (const c of this.connections) c.checkTimeout(nowMs);
      }, sweepMs),
    );
    if (options.onProgress) {
      const onProgress = options.onProgress;
      this.timers.push(setInterval(() => onProgress({ elapsedMs: performance.now() - this.startMs, completed: this.requests }), PROGRESS_INTERVAL_MS));
    }
  }

  /** Ends the run once every request it may send has been answered. */
  maybeDone(): void {
    if (this.finished) return;
    if (!this.stopped && this.sent < this.options.maxRequests) return;
    if (this.connections.some((c) => c.inFlight)) return;
    this.finish();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Requests still in flight at the end are not counted (their time is cut off).
    for (const c of this.connections) c.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.connections) c.destroy();
    this.options.signal?.removeEventListener("abort", this.onAbort);
    const { requests, ok } = this;
    const windowMs = Number.isNaN(this.lastResponseMs) ? performance.now() - this.startMs : this.lastResponseMs - this.startMs;
    const summary: ClosedLoopSummary = {
      kind: "closed-loop",
      startedAt: this.startedAt,
      durationMs: windowMs,
      connections: this.options.connections,
      requests,
      ok,
      throughputPerSec: windowMs > 0 ? (requests / windowMs) * 1000 : 0,
      okPerSec: windowMs > 0 ? (ok / windowMs) * 1000 : 0,
      errors: this.errors,
      non2xx: requests - ok,
      latencyUs: summarize(this.latency.flush()),
    };
    this.resolve({ summary, latency: this.latency.histogram });
  }
}

/** One keep-alive connection sending one request at a time. */
class Connection {
  socket: Socket | null = null;
  inFlight = false;
  sentAtMs = 0;
  private connected = false;
  private parser = new Http1ResponseParser();
  private readonly buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly onResponse = (response: ResponseEnd): void => this.answered(response);

  constructor(private readonly run: ClosedLoopRun) {}

  open(): void {
    if (this.run.stopped) return;
    this.parser = new Http1ResponseParser();
    this.connected = false;
    const socket = connect({
      host: this.run.host,
      port: this.run.port,
      noDelay: true,
      onread: {
        buffer: this.buffer,
        callback: (nread: number, buf: Uint8Array) => {
          this.read(buf as Buffer, nread);
          return true;
        },
      },
    });
    this.socket = socket;
    socket.once("connect", () => {
      this.connected = true;
      this.send(performance.now());
    });
    socket.on("error", (error) => this.failed(socket, classifyTransportError(error)));
    socket.on("close", () => this.closed(socket));
  }

  /** Writes the next request; `nowMs`: the clock read just before (an answer's end time is the next request's start). */
  send(nowMs: number): void {
    const run = this.run;
    if (run.stopped || run.sent >= run.options.maxRequests || this.socket === null) {
      run.maybeDone();
      return;
    }
    run.sent++;
    this.inFlight = true;
    this.sentAtMs = nowMs;
    this.socket.write(run.bytes);
  }

  read(data: Buffer, length: number): void {
    try {
      this.parser.push(data, 0, length, this.onResponse);
    } catch {
      // A malformed answer: counted as a connection error, the connection replaced.
      if (this.socket) this.failed(this.socket, "connection");
    }
  }

  answered(response: ResponseEnd): void {
    const run = this.run;
    const nowMs = performance.now();
    this.inFlight = false;
    run.requests++;
    run.lastResponseMs = nowMs;
    if (response.status >= 200 && response.status < 300) {
      run.ok++;
      run.latency.recordMs(nowMs - this.sentAtMs);
    } else {
      countError(run.errors, String(response.status));
    }
    if (response.close) this.replace(false);
    else this.send(nowMs);
  }

  /** Counts a failed request (if one was out) and opens a new connection. */
  failed(socket: Socket, kind: string): void {
    if (socket !== this.socket) return;
    // A request lost, or a connection that could not be made (no request could go out).
    if ((this.inFlight || !this.connected) && !this.run.stopped) countError(this.run.errors, kind);
    this.inFlight = false;
    this.replace(true);
  }

  closed(socket: Socket): void {
    if (socket !== this.socket) return;
    // A body delimited by the close ends here ("ended": answered() has run and replaced
    // the socket). Otherwise a request in flight got no answer — cut short ("cut"), or not
    // one byte of it ("idle": the server read the request and closed) — and counts as a
    // transport error, as a reset would (load-errors.ts).
    const outcome = this.parser.closed(this.onResponse);
    if (socket !== this.socket) return;
    if (this.inFlight && outcome !== "ended" && !this.run.stopped) countError(this.run.errors, "connection");
    this.inFlight = false;
    this.replace(true);
  }

  replace(afterError: boolean): void {
    const old = this.socket;
    this.socket = null;
    old?.destroy();
    if (this.run.stopped) {
      this.run.maybeDone();
      return;
    }
    if (afterError) this.run.timers.push(setTimeout(() => this.open(), RECONNECT_DELAY_MS));
    else this.open();
  }

  /** The request out on this connection has waited too long: counted, connection replaced. */
  checkTimeout(nowMs: number): void {
    if (this.inFlight && this.socket && nowMs - this.sentAtMs >= this.run.options.timeoutMs) {
      countError(this.run.errors, "timeout");
      this.inFlight = false;
      this.replace(false);
    }
  }

  destroy(): void {
    const old = this.socket;
    this.socket = null;
    this.inFlight = false;
    old?.destroy();
  }
}
