// proxy.streaming-not-buffered: generate_stream sends one SSE event per token every
// TOKEN_INTERVAL_MS; through the sidecar each event must arrive about when it arrives
// directly, not held back until a buffer fills or the stream ends.
import { performance } from "node:perf_hooks";
import { request, type Dispatcher } from "undici";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import { classifyTransportError } from "../../harness/load/load-errors.ts";
import { firstDifference, formatDifference } from "../support/byte-diff.ts";
import { headerText, round, withAgent } from "../../harness/load/http-exchange.ts";
import { endpointsOf, PrimaryMisbehavedError, sidecarLogTail } from "../support/proxy-comparison.ts";

export const TOKENS = 20;
export const TOKEN_INTERVAL_MS = 50;
/**
 * Bounds, relative to the direct stream measured in the same pod just before:
 * - TTFT and every later token at most 200 ms behind their direct arrival: four token
 *   intervals, far above scheduling jitter on a busy 2-core VM (tens of ms), far below
 *   the ≈ 950 ms a proxy that buffers the whole stream adds to the first token;
 * - the stream spans ≥ 50% of its direct duration, and the median inter-token gap is
 *   ≥ 50% of the direct one: a proxy that flushes in batches delivers most tokens with
 *   gaps near 0, even when its first token is on time.
 */
export const LAG_SLACK_MS = 200;
export const MIN_SPAN_RATIO = 0.5;
export const MIN_GAP_RATIO = 0.5;
const STREAM_TIMEOUT_MS = 10_000;

interface StreamTiming {
  status: number;
  contentType: string | undefined;
  /** ms from sending the request to the arrival of each complete event ("\n\n"). */
  arrivalsMs: number[];
  body: Buffer;
}

type StreamResult = { ok: true; timing: StreamTiming } | { ok: false; kind: string; message: string; afterMs: number; arrivalsMs: number[] };

const EVENT_END = Buffer.from("\n\n");

async function timeStream(baseUrl: string, path: string, body: Buffer, dispatcher: Dispatcher, parent: AbortSignal): Promise<StreamResult> {
  const url = new URL(path, assertLoadTarget(baseUrl));
  const signal = AbortSignal.any([parent, AbortSignal.timeout(STREAM_TIMEOUT_MS)]);
  const arrivalsMs: number[] = [];
  const startMs = performance.now();
  try {
    const res = await request(url, { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream" }, body, dispatcher, signal });
    let received = Buffer.alloc(0);
    let scanFrom = 0;
    for await (const chunk of res.body) {
      const nowMs = performance.now() - startMs;
      received = Buffer.concat([received, chunk as Buffer]);
      for (let at = received.indexOf(EVENT_END, scanFrom); at !== -1; at = received.indexOf(EVENT_END, scanFrom)) {
        arrivalsMs.push(nowMs);
        scanFrom = at + EVENT_END.length;
      }
    }
    return { ok: true, timing: { status: res.statusCode, contentType: headerText(res.headers, "content-type"), arrivalsMs, body: received } };
  } catch (error) {
    const kind = parent.aborted ? "aborted" : signal.aborted ? "timeout" : classifyTransportError(error);
    return { ok: false, kind, message: String((error as Error).message ?? error), afterMs: performance.now() - startMs, arrivalsMs };
  }
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function gaps(arrivalsMs: number[]): number[] {
  return arrivalsMs.slice(1).map((t, i) => t - (arrivalsMs[i] as number));
}

function shape(arrivalsMs: number[]) {
  const first = arrivalsMs[0] ?? Number.NaN;
  const last = arrivalsMs[arrivalsMs.length - 1] ?? Number.NaN;
  return { ttftMs: first, spanMs: last - first, medianGapMs: median(gaps(arrivalsMs)) };
}

const roundAll = (values: number[]) => values.map((v) => round(v));

export const streamingNotBuffered: ConformanceTest = {
  id: "proxy.streaming-not-buffered",
  description: `generate_stream (${TOKENS} SSE events, one every ${TOKEN_INTERVAL_MS} ms) through the sidecar: the same events, each at most ${LAG_SLACK_MS} ms behind its direct arrival, spanning ≥ ${MIN_SPAN_RATIO * 100}% of the direct duration with a median gap ≥ ${MIN_GAP_RATIO * 100}% of the direct one`,
  profile: "proxy",
  level: "core",
  features: ["streaming"],
  faultyFixture: "reference/sidecars/buffer-stream.yaml",
  timeoutMs: 30_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "token stream, timed against a direct stream"),
  async run(context) {
    const pod = await context.startPod();
    const endpoints = endpointsOf(context, pod);
    const path = `/v2/models/${encodeURIComponent(context.primary.manifest.spec.model.name)}/generate_stream`;
    const generate = (tokens: number, intervalMs: number) =>
      Buffer.from(JSON.stringify({ text_input: "is the sidecar streaming", parameters: { max_tokens: tokens, token_interval_ms: intervalMs } }));

    const { direct, viaSidecar } = await withAgent(async (agent) => {
      // Warm-up: connections open and code paths hot on both paths before anything is timed.
      await timeStream(endpoints.direct, path, generate(2, 0), agent, context.signal);
      await timeStream(endpoints.entry, path, generate(2, 0), agent, context.signal);
      const direct = await timeStream(endpoints.direct, path, generate(TOKENS, TOKEN_INTERVAL_MS), agent, context.signal);
      const viaSidecar = await timeStream(endpoints.entry, path, generate(TOKENS, TOKEN_INTERVAL_MS), agent, context.signal);
      return { direct, viaSidecar };
    });
    if (!direct.ok || direct.timing.status !== 200 || direct.timing.arrivalsMs.length !== TOKENS) {
      const what = direct.ok ? `status ${direct.timing.status} with ${direct.timing.arrivalsMs.length} events` : `${direct.kind} error (${direct.message})`;
      throw new PrimaryMisbehavedError(`the primary's generate_stream answered ${what} directly, expected 200 with ${TOKENS} events`);
    }
    const want = shape(direct.timing.arrivalsMs);
    const evidence: Record<string, unknown> = {
      bounds: { lagSlackMs: LAG_SLACK_MS, minSpanRatio: MIN_SPAN_RATIO, minGapRatio: MIN_GAP_RATIO },
      direct: { ...roundShape(want), arrivalsMs: roundAll(direct.timing.arrivalsMs) },
    };
    if (!viaSidecar.ok) {
      return {
        verdict: "failed",
        message: `expected ${TOKENS} streamed events through the sidecar; found a ${viaSidecar.kind} error after ${round(viaSidecar.afterMs)} ms and ${viaSidecar.arrivalsMs.length} events (${viaSidecar.message})`,
        evidence: { ...evidence, viaSidecar: { error: viaSidecar.kind, message: viaSidecar.message, arrivalsMs: roundAll(viaSidecar.arrivalsMs) }, sidecarLogTail: sidecarLogTail(context, pod) },
      };
    }
    const got = shape(viaSidecar.timing.arrivalsMs);
    const lagsMs = viaSidecar.timing.arrivalsMs.map((t, i) => t - (direct.timing.arrivalsMs[i] ?? Number.NaN));
    const maxLag = lagsMs.reduce((worst, lag, i) => (lag > worst.lagMs ? { index: i, lagMs: lag } : worst), { index: -1, lagMs: -Infinity });
    evidence["viaSidecar"] = { ...roundShape(got), maxLagMs: round(maxLag.lagMs), arrivalsMs: roundAll(viaSidecar.timing.arrivalsMs), lagsMs: roundAll(lagsMs) };

    const problems: string[] = [];
    if (viaSidecar.timing.status !== 200) problems.push(`status ${viaSidecar.timing.status}, directly 200`);
    if (viaSidecar.timing.contentType !== direct.timing.contentType) problems.push(`content-type ${JSON.stringify(viaSidecar.timing.contentType)}, directly ${JSON.stringify(direct.timing.contentType)}`);
    const difference = firstDifference(direct.timing.body, viaSidecar.timing.body);
    if (difference) problems.push(`${viaSidecar.timing.arrivalsMs.length} events whose bytes differ from the direct ${TOKENS}: ${formatDifference(difference)}`);
    if (!(got.ttftMs <= want.ttftMs + LAG_SLACK_MS)) problems.push(`first token after ${round(got.ttftMs)} ms, directly ${round(want.ttftMs)} ms (bound: +${LAG_SLACK_MS} ms)`);
    if (maxLag.index > 0 && !(maxLag.lagMs <= LAG_SLACK_MS)) problems.push(`token ${maxLag.index} arrived ${round(maxLag.lagMs)} ms after its direct arrival (bound: ${LAG_SLACK_MS} ms)`);
    if (!(got.spanMs >= MIN_SPAN_RATIO * want.spanMs)) problems.push(`tokens spread over ${round(got.spanMs)} ms, directly ${round(want.spanMs)} ms (bound: ≥ ${MIN_SPAN_RATIO * 100}%)`);
    if (!(got.medianGapMs >= MIN_GAP_RATIO * want.medianGapMs)) problems.push(`median inter-token gap ${round(got.medianGapMs)} ms, directly ${round(want.medianGapMs)} ms (bound: ≥ ${MIN_GAP_RATIO * 100}%)`);

    if (problems.length === 0) {
      return {
        verdict: "passed",
        message: `${TOKENS} tokens streamed through the sidecar: TTFT ${round(got.ttftMs)} ms (directly ${round(want.ttftMs)} ms), at most ${round(maxLag.lagMs)} ms behind direct, median gap ${round(got.medianGapMs)} ms (directly ${round(want.medianGapMs)} ms)`,
        evidence,
      };
    }
    return {
      verdict: "failed",
      message: `expected streamed tokens through the sidecar within ${LAG_SLACK_MS} ms of their direct arrival, spanning ≥ ${MIN_SPAN_RATIO * 100}% of the direct duration, median gap ≥ ${MIN_GAP_RATIO * 100}% of direct; found ${problems.join("; ")}`,
      evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};

function roundShape(s: { ttftMs: number; spanMs: number; medianGapMs: number }) {
  return { ttftMs: round(s.ttftMs), spanMs: round(s.spanMs), medianGapMs: round(s.medianGapMs) };
}
