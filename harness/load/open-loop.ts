// Open-loop load for latency claims (DESIGN.md, measuring rule 1). Send times are fixed
// in advance and do not wait for responses; latency counts from the SCHEDULED send time,
// so a stall of the server shows up in every request that was due during it
// (coordinated omission avoided). Requests beyond the free connections queue inside
// undici, and that queueing counts as latency too — as it would for a real client.
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { Pool, type Dispatcher } from "undici";
import { createLatencyHistogram, recordMs, summarize, type LatencyHistogram, type PercentilesUs } from "../measure/histogram.ts";
import { arrivalOffsetsMs, type ArrivalProcess } from "./arrival-schedule.ts";
import type { HttpRequestSpec } from "./kserve-request.ts";
import { classifyTransportError, countError, totalErrors, type ErrorCounts } from "./load-errors.ts";
import { TokenStreamRecorder, streamRequestMetrics, type TokenStreamOutcome } from "./token-stream.ts";
import { median } from "../measure/statistics.ts";
import { paceSchedule } from "./send-pacer.ts";
import { assertLoadTarget } from "./target-guard.ts";
import { GrpcInferClient } from "./grpc/grpc-infer-client.ts";
import { Http1Pool, type PooledRequest } from "./http1-pool.ts";
import { requestBytes } from "./closed-loop.ts";
import type { GrpcInferRequestSpec } from "./grpc/grpc-infer-request.ts";

export interface OpenLoopProgress {
  elapsedMs: number;
  scheduled: number;
  sent: number;
  completed: number;
  ok: number;
  errors: number;
  inFlight: number;
}

export interface OpenLoopOptions {
  /** Base URL (origin) of the target, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Built once (see buildInferRequest) and sent unchanged every time. */
  request: HttpRequestSpec;
  ratePerSec: number;
  arrival: ArrivalProcess;
  /** Seeds the Poisson gaps; recorded in the result. */
  seed: number;
  /** Requests are scheduled in [0, durationMs). */
  durationMs: number;
  /** Hard cap on scheduled requests. */
  maxRequests: number;
  /** A request not answered within timeoutMs of its scheduled time counts as "timeout". */
  timeoutMs: number;
  /** Keep-alive connections (pipelining 1); requests beyond them queue in the client. */
  maxConnections: number;
  /** A run whose ok responses fall short of the schedule by more than this is flagged. Default 2. */
  rateShortfallThresholdPct?: number;
  /** Required to target anything but loopback. */
  allowRemote?: boolean;
  /** Aborting stops sending, cancels in-flight requests (counted "aborted") and returns. */
  signal?: AbortSignal;
  /** Called about once a second. */
  onProgress?: (progress: OpenLoopProgress) => void;
  /** Called once per scheduled request as it settles: fault episodes need each request's time and fate, not only histograms. */
  onOutcome?: (outcome: RequestOutcome) => void;
}

export interface RequestOutcome {
  /** performance.now() of the scheduled send. */
  scheduledAtMs: number;
  /** Scheduled send → settled. */
  latencyMs: number;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Why no 2xx arrived: "timeout", a transport error class, "not-sent", or the status. Null when ok. */
  error: string | null;
}

export interface OpenLoopSummary {
  kind: "open-loop";
  /** Wall-clock time of the first scheduled send (ISO 8601). */
  startedAt: string;
  /** First scheduled send → last request settled (includes the drain). */
  durationMs: number;
  /** The part of the schedule that was used: durationMs, or shorter if maxRequests or the signal ended it. */
  sendWindowMs: number;
  /**
   * How long after its scheduled time the last request reached a socket. Near zero when
   * the generator and its connections keep up; large when requests piled up in the
   * client (generator CPU saturated, or too few connections for the server's latency).
   */
  sendLagMs: number;
  stoppedBy: "duration" | "maxRequests" | "signal";
  arrival: ArrivalProcess;
  seed: number;
  maxConnections: number;
  timeoutMs: number;
  targetRatePerSec: number;
  /** scheduled / sendWindow: equals the target for constant arrivals, fluctuates around it for Poisson. */
  scheduledRatePerSec: number;
  /**
   * ok / (sendWindow + sendLag): the rate at which requests were really put on the wire
   * and answered. Completion time is deliberately not used, so a slow but keeping-up
   * server (high latency) is not mistaken for a shortfall.
   */
  achievedRatePerSec: number;
  /**
   * 100 × (1 − achieved / scheduled rate): against the schedule actually drawn, so that
   * the natural spread of a Poisson count is not mistaken for a shortfall. Counts failed
   * requests, unsent ones, and a client that fell behind.
   */
  rateShortfallPct: number;
  rateShortfallThresholdPct: number;
  rateShortfall: boolean;
  scheduled: number;
  /** Handed to the HTTP client (a queued request counts as sent). */
  sent: number;
  /** Scheduled but never sent because the generator itself fell more than timeoutMs behind. */
  unsent: number;
  /** Responses fully read, any status. */
  completed: number;
  /** 2xx responses; only these enter the latency and service-time histograms. */
  ok: number;
  errors: ErrorCounts;
  /** How late the generator itself dispatched requests (never the pod's latency). */
  pacingErrorUs: { p50: number; p99: number; max: number };
  /** Scheduled send → response body fully read. */
  latencyUs: PercentilesUs;
  /** Request written to the socket → response body fully read (excludes client queueing). */
  serviceTimeUs: PercentilesUs;
  /** Handed to the client → written to a socket: waiting for a free connection. */
  clientQueueUs: PercentilesUs;
  /** Token streams only (a generate_stream request): per-token figures of the ok streams. */
  stream?: TokenStreamSummary;
}

export interface TokenStreamSummary {
  /** Tokens received in ok streams. */
  tokens: number;
  /** Scheduled send → first token. */
  ttftUs: PercentilesUs;
  /** Socket write → first token (excludes client queueing). */
  ttftServiceUs: PercentilesUs;
  /** Gaps between consecutive tokens of a stream, over all ok streams. */
  itlUs: PercentilesUs;
  /** tokens / (send window + send lag): the arm's token throughput at this request rate. */
  tokensPerSec: number;
  /** Median over ok streams of (tokens − 1) / (last − first token): how fast one stream decodes. */
  streamTokensPerSecP50: number;
}

export interface TokenStreamHistograms {
  ttft: LatencyHistogram;
  ttftService: LatencyHistogram;
  itl: LatencyHistogram;
}

export interface OpenLoopHistograms {
  latency: LatencyHistogram;
  serviceTime: LatencyHistogram;
  pacingError: LatencyHistogram;
  /** Dispatch → socket write, 2xx requests only (like latency and service time). */
  clientQueue: LatencyHistogram;
  /** Token streams only. */
  stream?: TokenStreamHistograms;
}

export interface OpenLoopResult {
  summary: OpenLoopSummary;
  histograms: OpenLoopHistograms;
}

const PROGRESS_INTERVAL_MS = 1000;

function validate(o: OpenLoopOptions): void {
  const positive: [string, number][] = [
    ["ratePerSec", o.ratePerSec],
    ["durationMs", o.durationMs],
    ["timeoutMs", o.timeoutMs],
  ];
  for (const [name, value] of positive) {
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`open loop: ${name} must be a positive number, got ${value}`);
  }
  for (const [name, value] of [["maxRequests", o.maxRequests], ["maxConnections", o.maxConnections]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`open loop: ${name} must be an integer ≥ 1, got ${value}`);
  }
  if (o.arrival !== "constant" && o.arrival !== "poisson") {
    throw new Error(`open loop: arrival must be "constant" or "poisson", got ${JSON.stringify(o.arrival)}`);
  }
}

/** Counters and histograms of one run; one instance per run, never shared. */
class RunState {
  readonly histograms: OpenLoopHistograms = {
    latency: createLatencyHistogram(),
    serviceTime: createLatencyHistogram(),
    pacingError: createLatencyHistogram(),
    clientQueue: createLatencyHistogram(),
  };
  readonly errors: ErrorCounts = {};
  /** Token streams: tokens of ok streams, and each ok stream's decode rate (for a median). */
  tokens = 0;
  readonly decodeRates: number[] = [];
  sent = 0;
  completed = 0;
  ok = 0;
  inFlight = 0;
  /** performance.now() of the latest socket write. */
  lastWriteMs = Number.NaN;
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly onOutcome: OpenLoopOptions["onOutcome"],
    tokenStream: boolean,
  ) {
    if (tokenStream) this.histograms.stream = { ttft: createLatencyHistogram(), ttftService: createLatencyHistogram(), itl: createLatencyHistogram() };
  }

  settle(
    request: RequestTimes,
    endMs: number,
    outcome: { status: number; stream?: TokenStreamOutcome } | { error: unknown } | { grpcStatus: string } | "timeout",
  ): void {
    let error: string | null = null;
    if (outcome === "timeout") {
      error = "timeout";
    } else if ("grpcStatus" in outcome) {
      // A gRPC status other than OK, from the server or a proxy: an answer, but no ok one.
      this.completed++;
      error = outcome.grpcStatus;
    } else if ("status" in outcome) {
      this.completed++;
      if (outcome.stream && !outcome.stream.ok && outcome.status >= 200 && outcome.status < 300) {
        // A 2xx stream that failed after its status (an error event, no tokens) is no ok answer.
        error = outcome.stream.error;
      } else if (outcome.status >= 200 && outcome.status < 300) {
        this.ok++;
        recordMs(this.histograms.latency, endMs - request.scheduledAtMs);
        recordMs(this.histograms.serviceTime, endMs - request.writtenAtMs);
        recordMs(this.histograms.clientQueue, request.writtenAtMs - request.dispatchedAtMs);
        if (outcome.stream?.ok && this.histograms.stream) {
          const metrics = streamRequestMetrics(outcome.stream.timing, { scheduledMs: request.scheduledAtMs, writtenMs: request.writtenAtMs, endMs });
          recordMs(this.histograms.stream.ttft, metrics.ttftMs);
          recordMs(this.histograms.stream.ttftService, metrics.ttftServiceMs);
          for (const gapMs of metrics.itlMs) recordMs(this.histograms.stream.itl, gapMs);
          this.tokens += metrics.tokens;
          if (Number.isFinite(metrics.decodeTokensPerSec)) this.decodeRates.push(metrics.decodeTokensPerSec);
        }
      } else {
        error = String(outcome.status);
      }
    } else {
      error = this.signal?.aborted ? "aborted" : outcome.error instanceof KindedTransportError ? outcome.error.kind : classifyTransportError(outcome.error);
    }
    if (error !== null) countError(this.errors, error);
    this.onOutcome?.({
      scheduledAtMs: request.scheduledAtMs,
      latencyMs: endMs - request.scheduledAtMs,
      status: typeof outcome === "object" && "status" in outcome ? outcome.status : null,
      error,
    });
    this.inFlight--;
    if (this.inFlight === 0) this.onDrained?.();
  }

  /** Resolves once no request is in flight (each one is bounded by its own timeout). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onDrained = resolve;
    });
  }
}

/** When a request was due, handed to the client, and written (gRPC: handed to grpc-js, which reports no socket write). */
interface RequestTimes {
  readonly scheduledAtMs: number;
  readonly dispatchedAtMs: number;
  readonly writtenAtMs: number;
}

/**
 * One gRPC ModelInfer, settled like an HTTP request: OK → a 200, DEADLINE_EXCEEDED → a
 * timeout, a server's or proxy's status → an answered error (grpc:<STATUS>), no status →
 * the transport's kind. Service time runs from the hand-off, since grpc-js has no write callback.
 */
function sendGrpc(state: RunState, grpc: NonNullable<TargetRun["grpc"]>, dueMs: number, nowMs: number, deadlineMs: number, signal: AbortSignal): void {
  const times: RequestTimes = { scheduledAtMs: dueMs, dispatchedAtMs: nowMs, writtenAtMs: nowMs };
  if (!(state.lastWriteMs >= nowMs)) state.lastWriteMs = nowMs;
  void grpc.client.infer(grpc.request, { timeoutMs: Math.max(1, deadlineMs - nowMs), signal }).then((result) => {
    const endMs = performance.now();
    if (result.ok) state.settle(times, endMs, { status: 200 });
    else if (result.kind === "timeout") state.settle(times, endMs, "timeout");
    else if (result.kind.startsWith("grpc:")) state.settle(times, endMs, { grpcStatus: result.kind });
    else state.settle(times, endMs, { error: new KindedTransportError(result.kind, result.message) });
  });
}

/** A request that got no answer, already classified (a gRPC call without status, the lean pool's failures): counted by its kind. */
class KindedTransportError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** One request's timestamps and outcome, fed by undici's dispatch-handler callbacks. */
class ScheduledRequest implements Dispatcher.DispatchHandler, RequestTimes {
  writtenAtMs = Number.NaN;
  private status = 0;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Set for a token stream once a 2xx status arrived: its body is timed token by token. */
  private tokens: TokenStreamRecorder | undefined;

  constructor(
    private readonly run: RunState,
    readonly scheduledAtMs: number,
    readonly dispatchedAtMs: number,
    deadlineMs: number,
    private readonly tokenStream = false,
  ) {
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadlineMs - performance.now()));
  }

  private finish(outcome: Parameters<RunState["settle"]>[2]): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.run.settle(this, performance.now(), outcome);
  }

  private expire(): void {
    this.finish("timeout");
    // On a socket: abort now. Still queued in the pool: onRequestStart aborts it later.
    this.controller?.abort(new Error("request timed out"));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.settled) {
      controller.abort(new Error("request timed out while queued"));
      return;
    }
    this.controller = controller;
    // Called just before the request is written to a socket (again on a retry: the last one counts).
    this.writtenAtMs = performance.now();
    if (!(this.run.lastWriteMs >= this.writtenAtMs)) this.run.lastWriteMs = this.writtenAtMs;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
    if (this.tokenStream && statusCode >= 200 && statusCode < 300) this.tokens = new TokenStreamRecorder();
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A unary body is read (so its transfer counts) and dropped; a stream's chunks are timed as they arrive.
    this.tokens?.push(chunk, performance.now());
  }

  onResponseEnd(): void {
    this.finish(this.tokens ? { status: this.status, stream: this.tokens.finish() } : { status: this.status });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finish({ error });
  }
}

/** One unary request through the lean pool (http1-pool.ts): the same times and outcomes as ScheduledRequest. */
class LeanRequest implements PooledRequest, RequestTimes {
  writtenAtMs = Number.NaN;

  constructor(
    private readonly run: RunState,
    readonly scheduledAtMs: number,
    readonly dispatchedAtMs: number,
    readonly deadlineMs: number,
  ) {}

  written(nowMs: number): void {
    this.writtenAtMs = nowMs;
    if (!(this.run.lastWriteMs >= nowMs)) this.run.lastWriteMs = nowMs;
  }

  end(status: number, nowMs: number): void {
    this.run.settle(this, nowMs, { status });
  }

  fail(kind: string, nowMs: number): void {
    this.run.settle(this, nowMs, kind === "timeout" ? "timeout" : { error: new KindedTransportError(kind, `request ${kind}`) });
  }
}

/** Connections each lean pool opens before the schedule (at most maxConnections): enough for a round's usual concurrency. */
const PRECONNECT_PER_TARGET = 4;

/** How often the lean pool checks deadlines: a timed-out request is settled at most this late. */
const LEAN_SWEEP_MS = 10;

function snapshot(state: RunState, scheduled: number, startMs: number): OpenLoopProgress {
  return {
    elapsedMs: performance.now() - startMs,
    scheduled,
    sent: state.sent,
    completed: state.completed,
    ok: state.ok,
    errors: totalErrors(state.errors),
    inFlight: state.inFlight,
  };
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { url, request, ...rest } = options;
  const [result] = await runInterleavedOpenLoop({ ...rest, targets: [{ url, request }], slotMs: options.durationMs, slotOrder: [0] });
  return result!;
}

export interface OpenLoopTarget {
  url: string;
  request: HttpRequestSpec;
}

export interface InterleavedOpenLoopOptions extends Omit<OpenLoopOptions, "url" | "request" | "durationMs"> {
  targets: OpenLoopTarget[];
  /**
   * One arrival schedule over slotOrder.length × slotMs; a request scheduled in slot i
   * goes to targets[slotOrder[i]]. Alternating targets in short slots measures them
   * under the same machine conditions, which sequential trials on a noisy host cannot.
   */
  slotMs: number;
  slotOrder: number[];
}

/** What one target of a run tracks: its own pool, counters and histograms. */
interface TargetRun {
  /** HTTP targets with a streamed body (token streams): undici's pool. */
  pool: Pool | null;
  /** Unary HTTP/1.1 targets: the lean pool. */
  lean: Http1Pool | null;
  /** protocol grpc: one HTTP/2 channel to the target, and the ModelInfer it sends. */
  grpc: { client: GrpcInferClient; request: GrpcInferRequestSpec } | null;
  dispatchOptions: Dispatcher.DispatchOptions;
  state: RunState;
  tokenStream: boolean;
  scheduled: number;
  unsent: number;
  lastSentDueMs: number;
}

/** Sends one schedule to several targets by slot; returns one result per target, in order. */
export async function runInterleavedOpenLoop(options: InterleavedOpenLoopOptions): Promise<OpenLoopResult[]> {
  const { slotMs, slotOrder, maxRequests, timeoutMs, signal } = options;
  const durationMs = slotMs * slotOrder.length;
  validate({ ...options, url: "", request: options.targets[0]!.request, durationMs });
  if (options.targets.length === 0) throw new Error("open loop: at least one target is needed");
  if (slotOrder.some((t) => !Number.isInteger(t) || t < 0 || t >= options.targets.length)) {
    throw new Error(`open loop: slotOrder must hold target indices 0..${options.targets.length - 1}`);
  }
  const thresholdPct = options.rateShortfallThresholdPct ?? 2;
  const runs: TargetRun[] = options.targets.map(({ url, request }) => {
    const target = assertLoadTarget(url, options.allowRemote ?? false);
    // Unary HTTP answers only need a status and their end: the lean pool. Token streams are
    // timed chunk by chunk through undici; https (never used by a scenario) too.
    const lean = !request.grpc && !request.tokenStream && target.protocol === "http:";
    return {
      grpc: request.grpc ? { client: new GrpcInferClient(target.origin, { allowRemote: options.allowRemote ?? false }), request: request.grpc } : null,
      lean: lean
        ? new Http1Pool({
            host: target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname,
            port: Number(target.port || 80),
            connections: options.maxConnections,
            request: requestBytes(target, request),
            sweepMs: Math.min(LEAN_SWEEP_MS, timeoutMs),
          })
        : null,
      pool: request.grpc || lean ? null : new Pool(target.origin, {
        connections: options.maxConnections,
        pipelining: 1,
        // Our own per-request deadline is the binding one; these only back it up.
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        connectTimeout: timeoutMs,
      }),
      dispatchOptions: { path: request.path, method: request.method, headers: request.headers, body: request.body },
      state: new RunState(signal, options.onOutcome, request.tokenStream === true),
      tokenStream: request.tokenStream === true,
      scheduled: 0,
      unsent: 0,
      lastSentDueMs: Number.NaN,
    };
  });
  // gRPC calls each listen to this signal until they settle: one listener per call in
  // flight, removed as it ends, so its listener limit does not apply (EventTarget warns at 10).
  const grpcAbort = new AbortController();
  setMaxListeners(0, grpcAbort.signal);
  const cancelInFlight = (): void => {
    for (const run of runs) {
      void run.pool?.destroy(new Error("open loop aborted by its signal"));
      run.lean?.destroy("aborted");
    }
    grpcAbort.abort();
  };
  signal?.addEventListener("abort", cancelInFlight, { once: true });

  // A gRPC channel connects before the schedule starts, so no measured call pays for it;
  // so do a few of each lean pool's connections: otherwise the arm whose slot leads the
  // round also makes its connections to a pod that idled between rounds, a cost in its tail
  // the other arms do not pay (see planRoundSlots on who leads).
  try {
    await Promise.all(runs.map((run) => run.grpc?.client.connect(timeoutMs) ?? run.lean?.preconnect(PRECONNECT_PER_TARGET, timeoutMs)));
  } catch (error) {
    for (const run of runs) {
      run.grpc?.client.close();
      run.lean?.destroy();
    }
    signal?.removeEventListener("abort", cancelInFlight);
    throw error;
  }
  const offsets = arrivalOffsetsMs(options.arrival, options.ratePerSec, options.seed);
  const startedAt = new Date().toISOString();
  const startMs = performance.now();
  let scheduledTotal = 0;
  let sendWindowMs: number;
  let stoppedBy: OpenLoopSummary["stoppedBy"];
  const progressTimer = options.onProgress
    ? setInterval(() => options.onProgress?.(snapshot(runs[0]!.state, scheduledTotal, startMs)), PROGRESS_INTERVAL_MS)
    : undefined;

  try {
    // One call per due send (send-pacer.ts keeps the time): which target's slot it falls in,
    // and whether the generator itself is too late to send it at all.
    const onDue = (offsetMs: number, dueMs: number, nowMs: number): void => {
      scheduledTotal++;
      const run = runs[slotOrder[Math.floor(offsetMs / slotMs)]!]!;
      run.scheduled++;
      const deadlineMs = dueMs + timeoutMs;
      if (nowMs >= deadlineMs) {
        // The generator itself is more than a timeout late: sending now would measure us, not the pod.
        run.unsent++;
        options.onOutcome?.({ scheduledAtMs: dueMs, latencyMs: nowMs - dueMs, status: null, error: "not-sent" });
        return;
      }
      recordMs(run.state.histograms.pacingError, nowMs - dueMs);
      run.state.sent++;
      run.state.inFlight++;
      run.lastSentDueMs = dueMs;
      if (run.lean) run.lean.dispatch(new LeanRequest(run.state, dueMs, nowMs, deadlineMs));
      else if (run.grpc) sendGrpc(run.state, run.grpc, dueMs, nowMs, deadlineMs, grpcAbort.signal);
      else run.pool!.dispatch(run.dispatchOptions, new ScheduledRequest(run.state, dueMs, nowMs, deadlineMs, run.tokenStream));
    };
    ({ sendWindowMs, stoppedBy } = await paceSchedule({ offsetsMs: offsets, startMs, durationMs, maxRequests, signal, onDue }));
    await Promise.all(runs.map((run) => run.state.drained()));
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    signal?.removeEventListener("abort", cancelInFlight);
    await Promise.all(runs.map((run) => run.pool?.destroy()));
    for (const run of runs) {
      run.grpc?.client.close();
      run.lean?.destroy();
    }
  }
  const endMs = performance.now();
  return runs.map((run, index) => {
    // The part of the send window during which this target's slots were open.
    const activeMs = slotOrder.reduce(
      (sum, target, slot) => (target === index ? sum + Math.max(0, Math.min((slot + 1) * slotMs, sendWindowMs) - slot * slotMs) : sum),
      0,
    );
    return summarizeTarget(run, {
      startedAt,
      durationMs: endMs - startMs,
      activeMs,
      stoppedBy,
      thresholdPct,
      options: { ...options, durationMs },
    });
  });
}

function summarizeTarget(
  run: TargetRun,
  context: {
    startedAt: string;
    durationMs: number;
    activeMs: number;
    stoppedBy: OpenLoopSummary["stoppedBy"];
    thresholdPct: number;
    options: Omit<OpenLoopOptions, "url" | "request">;
  },
): OpenLoopResult {
  const { state, scheduled, unsent, lastSentDueMs } = run;
  const { activeMs: sendWindowMs, options, thresholdPct } = context;
  const sendLagMs = state.lastWriteMs > lastSentDueMs ? state.lastWriteMs - lastSentDueMs : 0;
  const effectiveWindowMs = sendWindowMs + sendLagMs;
  const achievedRatePerSec = effectiveWindowMs > 0 ? (state.ok / effectiveWindowMs) * 1000 : 0;
  const scheduledRatePerSec = sendWindowMs > 0 ? (scheduled / sendWindowMs) * 1000 : 0;
  const rateShortfallPct = scheduledRatePerSec > 0 ? (1 - achievedRatePerSec / scheduledRatePerSec) * 100 : 0;
  const pacing = state.histograms.pacingError;
  const summary: OpenLoopSummary = {
    kind: "open-loop",
    startedAt: context.startedAt,
    durationMs: context.durationMs,
    sendWindowMs,
    sendLagMs,
    stoppedBy: context.stoppedBy,
    arrival: options.arrival,
    seed: options.seed,
    maxConnections: options.maxConnections,
    timeoutMs: options.timeoutMs,
    targetRatePerSec: options.ratePerSec,
    scheduledRatePerSec,
    achievedRatePerSec,
    rateShortfallPct,
    rateShortfallThresholdPct: thresholdPct,
    rateShortfall: rateShortfallPct > thresholdPct,
    scheduled,
    sent: state.sent,
    unsent,
    completed: state.completed,
    ok: state.ok,
    errors: { ...state.errors },
    pacingErrorUs: {
      p50: pacing.totalCount > 0 ? pacing.getValueAtPercentile(50) : Number.NaN,
      p99: pacing.totalCount > 0 ? pacing.getValueAtPercentile(99) : Number.NaN,
      max: pacing.totalCount > 0 ? pacing.maxValue : Number.NaN,
    },
    latencyUs: summarize(state.histograms.latency),
    serviceTimeUs: summarize(state.histograms.serviceTime),
    clientQueueUs: summarize(state.histograms.clientQueue),
  };
  const stream = state.histograms.stream;
  if (stream) {
    summary.stream = {
      tokens: state.tokens,
      ttftUs: summarize(stream.ttft),
      ttftServiceUs: summarize(stream.ttftService),
      itlUs: summarize(stream.itl),
      tokensPerSec: effectiveWindowMs > 0 ? (state.tokens / effectiveWindowMs) * 1000 : 0,
      streamTokensPerSecP50: state.decodeRates.length > 0 ? median(state.decodeRates) : Number.NaN,
    };
  }
  return { summary, histograms: state.histograms };
}
