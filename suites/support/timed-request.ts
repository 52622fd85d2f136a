// One HTTP request on its own connection, timed on the performance clock, returned as a
// value: lifecycle checks send requests while a sidecar is down, restarting or stopping,
// and a refused or reset connection is an observation there, not an exception. A fresh
// connection per request, because a kept-alive socket to a killed process would tell
// nothing about the process that replaced it.
import { performance } from "node:perf_hooks";
import { Client } from "undici";
import { classifyTransportError } from "../../harness/load/load-errors.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";

export interface TimedRequestSpec {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface TimedOutcome {
  /** performance.now() when the request was started and when it settled. */
  startedAtMs: number;
  endedAtMs: number;
  durationMs: number;
  /** Set when a response (headers and the whole body) arrived. */
  status?: number;
  body?: Buffer;
  /** Set when it did not: "timeout", "connection", "aborted" or "other:<code>". */
  error?: string;
  code?: string;
}

export async function timedRequest(baseUrl: string, spec: TimedRequestSpec, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TimedOutcome> {
  const origin = assertLoadTarget(baseUrl).origin;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const client = new Client(origin, { connectTimeout: options.timeoutMs, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const startedAtMs = performance.now();
  const settle = (fields: Partial<TimedOutcome>): TimedOutcome => {
    const endedAtMs = performance.now();
    return { startedAtMs, endedAtMs, durationMs: endedAtMs - startedAtMs, ...fields };
  };
  try {
    const response = await client.request({
      origin,
      path: spec.path,
      method: spec.method,
      headers: spec.headers ?? {},
      ...(spec.body !== undefined ? { body: spec.body } : {}),
      signal,
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    return settle({ status: response.statusCode, body });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const kind = options.signal?.aborted ? "aborted" : timeout.aborted ? "timeout" : classifyTransportError(error);
    return settle({ error: kind, ...(typeof code === "string" ? { code } : {}) });
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/** "200", "connection (ECONNREFUSED)", "timeout". */
export function outcomeKind(outcome: TimedOutcome): string {
  return outcome.status !== undefined ? String(outcome.status) : `${outcome.error}${outcome.code ? ` (${outcome.code})` : ""}`;
}

/** "200 in 3.1 ms", "connection (ECONNREFUSED) after 0.4 ms", "timeout after 1000 ms". */
export function describeOutcome(outcome: TimedOutcome): string {
  return `${outcomeKind(outcome)} ${outcome.status !== undefined ? "in" : "after"} ${roundMs(outcome.durationMs)} ms`;
}

/**
 * Runs of equal results, e.g. "0–212.4 ms after the kill: connection (ECONNREFUSED) ×9, slowest 0.6 ms",
 * so that evidence of hundreds of requests stays readable.
 */
export function outcomeTimeline(outcomes: readonly TimedOutcome[], originMs: number, originLabel: string): string[] {
  const runs: string[] = [];
  let start = 0;
  for (let i = 1; i <= outcomes.length; i++) {
    if (i < outcomes.length && outcomeKind(outcomes[i]!) === outcomeKind(outcomes[start]!)) continue;
    const run = outcomes.slice(start, i);
    const slowestMs = Math.max(...run.map((o) => o.durationMs));
    runs.push(
      `${roundMs(run[0]!.startedAtMs - originMs)}–${roundMs(run[run.length - 1]!.endedAtMs - originMs)} ms ${originLabel}: ` +
        `${outcomeKind(run[0]!)} ×${run.length}, slowest ${roundMs(slowestMs)} ms`,
    );
    start = i;
  }
  return runs;
}

export function roundMs(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
