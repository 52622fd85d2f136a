// Closed-loop load for capacity (DESIGN.md, measuring rule 2): autocannon in-process,
// N connections each sending its next request as soon as the previous one is answered.
// autocannon's own latency histogram holds whole milliseconds, so we record our own in
// microseconds from its `response` event, whose responseTime is
// `hrtime[0] * 1e3 + hrtime[1] / 1e6` (lib/pipelinedRequestsQueue.js in autocannon 9):
// a float in ms with nanosecond resolution, measured from the socket write of the
// request to the end of its response.
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { createLatencyHistogram, recordMs, summarize, type LatencyHistogram, type PercentilesUs } from "../measure/histogram.ts";
import type { HttpRequestSpec } from "./kserve-request.ts";
import type { ErrorCounts } from "./load-errors.ts";
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
  /** autocannon counts whole seconds: rounded up, at least 1 s. */
  timeoutMs: number;
  allowRemote?: boolean;
  /** Aborting stops the run early (autocannon notices within SAMPLE_INTERVAL_MS). */
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

/**
 * autocannon only checks its stop flag once per sample interval (1 s by default), so
 * a run would overrun its duration by up to that much; 100 ms keeps the overrun small.
 */
const SAMPLE_INTERVAL_MS = 100;
const PROGRESS_INTERVAL_MS = 1000;

function validate(o: ClosedLoopOptions): void {
  for (const [name, value] of [["connections", o.connections], ["maxRequests", o.maxRequests]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`closed loop: ${name} must be an integer ≥ 1, got ${value}`);
  }
  for (const [name, value] of [["durationMs", o.durationMs], ["timeoutMs", o.timeoutMs]] as const) {
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`closed loop: ${name} must be a positive number, got ${value}`);
  }
  // autocannon splits the cap over connections; a connection given 0 would run unbounded.
  if (o.maxRequests < o.connections) {
    throw new Error(`closed loop: maxRequests (${o.maxRequests}) must be ≥ connections (${o.connections})`);
  }
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  validate(options);
  const target = assertLoadTarget(options.url, options.allowRemote ?? false);
  const request = options.request;
  const latency = createLatencyHistogram();
  let requests = 0;
  let ok = 0;
  let lastResponseMs = Number.NaN;

  const startedAt = new Date().toISOString();
  const startMs = performance.now();
  let progressTimer: NodeJS.Timeout | undefined;
  let stop: (() => void) | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: new URL(request?.path ?? "/", target.origin).href,
        method: request?.method ?? "GET",
        ...(request ? { headers: request.headers, body: request.body } : {}),
        connections: options.connections,
        // Pipelining would change what is measured (several requests in flight per connection).
        pipelining: 1,
        duration: options.durationMs / 1000,
        // maxOverallRequests (not `amount`): autocannon ignores the duration once amount is set.
        maxOverallRequests: options.maxRequests,
        timeout: Math.max(1, Math.ceil(options.timeoutMs / 1000)),
        sampleInt: SAMPLE_INTERVAL_MS,
        // We summarise from our own histogram. (Swapping autocannon's ms histogram for a
        // no-op through its undocumented `histograms` option saved < 2% CPU: not worth it.)
        skipAggregateResult: true,
      },
      // Invoked synchronously when autocannon rejects its options, later otherwise.
      (err: unknown, res: autocannon.Result) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      requests++;
      lastResponseMs = performance.now();
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        recordMs(latency, responseTimeMs);
      }
    });
    stop = () => instance.stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    if (options.signal?.aborted) stop();
    if (options.onProgress) {
      const onProgress = options.onProgress;
      progressTimer = setInterval(
        () => onProgress({ elapsedMs: performance.now() - startMs, completed: requests }),
        PROGRESS_INTERVAL_MS,
      );
    }
  }).finally(() => {
    if (progressTimer) clearInterval(progressTimer);
    if (stop) options.signal?.removeEventListener("abort", stop);
  });

  const windowMs = Number.isNaN(lastResponseMs) ? performance.now() - startMs : lastResponseMs - startMs;
  const errors: ErrorCounts = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) {
    const code = Number(status);
    if (code < 200 || code >= 300) errors[status] = stat.count ?? 0;
  }
  // autocannon's `errors` include its timeouts.
  if (result.timeouts > 0) errors["timeout"] = result.timeouts;
  if (result.errors - result.timeouts > 0) errors["connection"] = result.errors - result.timeouts;

  const summary: ClosedLoopSummary = {
    kind: "closed-loop",
    startedAt,
    durationMs: windowMs,
    connections: options.connections,
    requests,
    ok,
    throughputPerSec: windowMs > 0 ? (requests / windowMs) * 1000 : 0,
    okPerSec: windowMs > 0 ? (ok / windowMs) * 1000 : 0,
    errors,
    non2xx: requests - ok,
    latencyUs: summarize(latency),
  };
  return { summary, latency };
}
