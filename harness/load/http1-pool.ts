// A lean keep-alive pool for the open loop's unary HTTP/1.1 requests: up to N connections,
// one request at a time on each (no pipelining), requests beyond them wait in a FIFO queue
// in the client, as they would in undici's Pool. It sends one prebuilt request buffer and
// scans answers in place (http1-response-parser.ts), and checks deadlines in one sweep
// rather than a timer per request: at 10,000 req/s undici's general path (a handler
// object, a timer, header parsing per request) cost the generator ~3× the CPU per request,
// which showed up as pacing error and client queueing (bench/loadgen-vs-wrk.ts).
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Http1ResponseParser, type ResponseEnd } from "./http1-response-parser.ts";

/** What the pool reports about one request. Each request gets exactly one of end/fail. */
export interface PooledRequest {
  /** performance.now() after which the request is abandoned as "timeout". */
  readonly deadlineMs: number;
  /** Just before the request is written to a socket. */
  written(nowMs: number): void;
  /** The whole response was read. */
  end(status: number, nowMs: number): void;
  /** No complete response: "timeout", "connection" or "aborted". */
  fail(kind: string, nowMs: number): void;
}

export interface Http1PoolOptions {
  host: string;
  port: number;
  connections: number;
  /** The request's bytes (see requestBytes in closed-loop.ts). */
  request: Buffer;
  /** How often deadlines are checked; a late request is failed at most this much after its deadline. */
  sweepMs: number;
}

const READ_BUFFER_BYTES = 64 * 1024;

export class Http1Pool {
  private readonly idle: PoolConnection[] = [];
  private readonly all = new Set<PoolConnection>();
  /** Waiting for a free connection, oldest first (a ring would save little: the queue is short when all is well). */
  private queue: PooledRequest[] = [];
  private queueHead = 0;
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: Http1PoolOptions) {
    this.sweep = setInterval(() => this.expire(performance.now()), options.sweepMs);
  }

  dispatch(request: PooledRequest): void {
    if (this.closed) {
      request.fail("aborted", performance.now());
      return;
    }
    const connection = this.idle.pop();
    if (connection) connection.send(request);
    else {
      this.queue.push(request);
      if (this.all.size < this.options.connections) this.open();
    }
  }

  /**
   * Opens up to `count` connections before any request, resolving once each is connected
   * or failed (or after `timeoutMs`): a round's first requests then pay no TCP set-up, and
   * neither does whichever arm happens to lead the round.
   */
  async preconnect(count: number, timeoutMs: number): Promise<void> {
    const opening: Promise<void>[] = [];
    for (let i = this.all.size; i < Math.min(count, this.options.connections); i++) opening.push(this.open().ready);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(opening), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Requests dispatched and not yet settled, queued or on a socket. */
  pending(): number {
    let onSockets = 0;
    for (const c of this.all) if (c.current) onSockets++;
    return this.queue.length - this.queueHead + onSockets;
  }

  /** Fails every pending request with `kind` and closes all connections. */
  destroy(kind = "aborted"): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    const nowMs = performance.now();
    for (const c of [...this.all]) c.close(kind, nowMs);
    for (const request of this.takeQueue()) request.fail(kind, nowMs);
  }

  /** Called by a connection that is free: next queued request, or back to the idle list. */
  released(connection: PoolConnection): void {
    const next = this.nextQueued();
    if (next) connection.send(next);
    else this.idle.push(connection);
  }

  /** A connection ended (error, close, timeout): forget it; open another if requests wait. */
  lost(connection: PoolConnection): void {
    this.all.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    if (!this.closed && this.queue.length > this.queueHead && this.all.size < this.options.connections) this.open();
  }

  /** A connection could not be made: the oldest waiting request fails, so a refused port cannot leave the queue waiting forever. */
  refused(connection: PoolConnection, kind: string): void {
    this.lost(connection);
    const next = this.nextQueued();
    if (next) next.fail(kind, performance.now());
  }

  private open(): PoolConnection {
    const connection = new PoolConnection(this, this.options);
    this.all.add(connection);
    return connection;
  }

  private nextQueued(): PooledRequest | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const next = this.queue[this.queueHead++]!;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return next;
  }

  private takeQueue(): PooledRequest[] {
    const waiting = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    return waiting;
  }

  private expire(nowMs: number): void {
    for (const c of [...this.all]) if (c.current && c.current.deadlineMs <= nowMs) c.close("timeout", nowMs);
    // Queued requests are in dispatch order, but deadlines need not be: check them all.
    if (this.queue.length > this.queueHead) {
      const waiting = this.takeQueue();
      for (const request of waiting) {
        if (request.deadlineMs <= nowMs) request.fail("timeout", nowMs);
        else this.queue.push(request);
      }
    }
  }
}

class PoolConnection {
  current: PooledRequest | null = null;
  /** Settles when the connection is made or has failed (never rejects). */
  readonly ready: Promise<void>;
  private onReady: () => void = () => undefined;
  private readonly socket: Socket;
  private readonly parser = new Http1ResponseParser();
  private connected = false;
  private done = false;
  private readonly onResponse = (response: ResponseEnd): void => this.answered(response);

  constructor(
    private readonly pool: Http1Pool,
    private readonly options: Http1PoolOptions,
  ) {
    this.ready = new Promise((resolve) => (this.onReady = resolve));
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    this.socket = connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      onread: {
        buffer,
        callback: (nread: number) => {
          this.read(buffer, nread);
          return true;
        },
      },
    });
    this.socket.once("connect", () => {
      this.connected = true;
      this.onReady();
      this.pool.released(this);
    });
    this.socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!this.connected && !this.done) {
        this.done = true;
        this.onReady();
        this.pool.refused(this, error.code === "ETIMEDOUT" ? "timeout" : "connection");
      } else {
        this.close("connection", performance.now());
      }
    });
    this.socket.on("close", () => {
      // A body delimited by the close ends here; otherwise the answer in flight was cut off.
      if (!this.done) this.parser.closed(this.onResponse);
      this.close("connection", performance.now());
    });
  }

  send(request: PooledRequest): void {
    // One request at a time: a second one here would overwrite the first, which then never
    // settles (expire() sees only `current`). Refused as a transport error instead.
    if (this.current !== null || this.done) {
      request.fail("connection", performance.now());
      return;
    }
    this.current = request;
    request.written(performance.now());
    this.socket.write(this.options.request);
  }

  /** Ends this connection; the request on it (if any) fails with `kind`. */
  close(kind: string, nowMs: number): void {
    if (this.done) return;
    this.done = true;
    this.onReady();
    const request = this.current;
    this.current = null;
    this.socket.destroy();
    this.pool.lost(this);
    request?.fail(kind, nowMs);
  }

  private read(data: Buffer, length: number): void {
    try {
      this.parser.push(data, 0, length, this.onResponse);
    } catch {
      this.close("connection", performance.now());
    }
  }

  private answered(response: ResponseEnd): void {
    if (this.done) return; // bytes after this connection was closed (parsed in the same read)
    if (this.current === null) {
      // An answer nobody asked for (the server answered twice, say): a protocol error. The
      // connection is already free (idle or carrying the next request), so releasing it again
      // would put it in `idle` twice; it is closed instead, failing its request if it has one.
      this.close("connection", performance.now());
      return;
    }
    const request = this.current;
    this.current = null;
    const nowMs = performance.now();
    if (response.close) {
      // The server ends the connection after this answer: settle it, then replace the connection.
      this.done = true;
      this.socket.destroy();
      this.pool.lost(this);
      request.end(response.status, nowMs);
      return;
    }
    request.end(response.status, nowMs);
    if (!this.done) this.pool.released(this);
  }
}
