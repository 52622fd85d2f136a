// The requests the telemetry checks send to the primary (directly: a telemetry sidecar is
// not on the request path), and the primary's own count of them. A mix of outcomes, so the
// counts have several label sets: mostly 200 infers, one in ten for a model that does not
// exist (404) and one in ten with a malformed body (400). Paced over a given time, so that
// the primary's exports — its span batches every 200 ms, its metric reader every second —
// number as many as the check's tries need.
import { performance } from "node:perf_hooks";
import { request } from "undici";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import { pause } from "../support/bounded-wait.ts";
import { inferRequest } from "../support/reference-requests.ts";
import { timedRequest, type TimedOutcome, type TimedRequestSpec } from "../support/timed-request.ts";
import type { LabelCount } from "./count-comparison.ts";

/** The i-th request of the mix and the status the primary answers it with. */
export function mixedRequest(context: ConformanceContext, index: number): { spec: TimedRequestSpec; expectStatus: number } {
  const infer = inferRequest(context, { seed: index + 1 });
  const base = { method: infer.method, path: infer.path, headers: infer.headers, body: infer.body };
  switch (index % 10) {
    case 3:
      return { spec: { ...base, path: "/v2/models/no-such-model/infer" }, expectStatus: 404 };
    case 7:
      return { spec: { ...base, body: '{"inputs": [{"name": "INPUT0", "shape": [1,' }, expectStatus: 400 };
    default:
      return { spec: base, expectStatus: 200 };
  }
}

export interface SentRequest extends TimedOutcome {
  index: number;
  expectStatus: number;
  /** Wall-clock start (epoch ms), to compare with the spans' start times. */
  startedAtEpochMs: number;
}

export interface PacedOptions {
  /** Requests sent, evenly spread over spreadMs (sequentially; one that falls behind sends at once). */
  count: number;
  spreadMs: number;
  firstIndex?: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Stop early (e.g. a load window ended); checked before each request. */
  until?: () => boolean;
}

export async function sendPaced(context: ConformanceContext, baseUrl: string, options: PacedOptions): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  const gapMs = options.count > 1 ? options.spreadMs / options.count : 0;
  const began = performance.now();
  for (let i = 0; i < options.count; i++) {
    if (options.until?.()) break;
    const dueMs = began + i * gapMs - performance.now();
    if (dueMs > 0) await pause(dueMs, options.signal);
    const index = (options.firstIndex ?? 0) + i;
    const { spec, expectStatus } = mixedRequest(context, index);
    const startedAtEpochMs = Date.now();
    const outcome = await timedRequest(baseUrl, spec, { timeoutMs: options.timeoutMs, signal: options.signal });
    sent.push({ ...outcome, index, expectStatus, startedAtEpochMs });
  }
  return sent;
}

/** "200 ×160, 404 ×20, 400 ×20" (and errors), for evidence. */
export function describeSent(sent: readonly SentRequest[]): string {
  const tally = new Map<string, number>();
  for (const r of sent) {
    const key = r.status !== undefined ? String(r.status) : (r.error ?? "error");
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return [...tally.entries()].map(([key, n]) => `${key} ×${n}`).join(", ");
}

/** Requests that got another answer than the mix expects (a primary problem, not the sidecar's). */
export function unexpectedAnswers(sent: readonly SentRequest[]): SentRequest[] {
  return sent.filter((r) => r.status !== r.expectStatus);
}

/** The primary's own counts of counted requests: GET /v2/debug/telemetry. */
export async function primaryCounts(context: ConformanceContext, baseUrl: string): Promise<LabelCount[]> {
  const url = new URL("/v2/debug/telemetry", assertLoadTarget(baseUrl));
  const response = await request(url, { signal: AbortSignal.any([context.signal, AbortSignal.timeout(5_000)]), headersTimeout: 5_000, bodyTimeout: 5_000 });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    throw new Error(`the primary's GET /v2/debug/telemetry answered ${response.statusCode} (${text.slice(0, 200)}): the telemetry checks need its own counts (PRIMARY_TELEMETRY=1)`);
  }
  const body = JSON.parse(text) as { requests?: Array<{ model: string; status: string; count: number }> };
  if (!Array.isArray(body.requests)) throw new Error(`the primary's GET /v2/debug/telemetry: expected {"requests": [...]}, found ${text.slice(0, 200)}`);
  return body.requests.map((r) => ({ model: String(r.model), status: String(r.status), count: r.count }));
}

export const totalCount = (counts: readonly LabelCount[]): number => counts.reduce((sum, c) => sum + c.count, 0);
