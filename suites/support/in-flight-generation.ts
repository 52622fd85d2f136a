// A long-running request kept in flight while something happens to the pod (a stop, a
// restart): token generation of the reference primary, streamed (generate_stream, SSE)
// or whole (generate), with its progress observable while it runs and a verdict on
// whether it completed in full.
import { performance } from "node:perf_hooks";
import { Client } from "undici";
import { classifyTransportError } from "../../harness/load/load-errors.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import { generateRequest } from "./reference-requests.ts";
import type { TimedRequestSpec } from "./timed-request.ts";

export interface GenerationProgress {
  id: string;
  stream: boolean;
  expectedTokens: number;
  startedAtMs: number;
  /** First response bytes (for a stream: the first token). */
  firstByteAtMs?: number;
  endedAtMs?: number;
  status?: number;
  /** Tokens received so far: SSE events, or words of the whole response's text_output. */
  tokens: number;
  /** The stream's last event said final: true, or the whole response carried every token. */
  final: boolean;
  error?: string;
  code?: string;
}

export interface InFlightGeneration {
  progress: GenerationProgress;
  /** Settles (never rejects) when the response ends, fails, or times out. */
  done: Promise<GenerationProgress>;
}

export function startGeneration(
  baseUrl: string,
  request: TimedRequestSpec,
  meta: { id: string; stream: boolean; expectedTokens: number },
  options: { timeoutMs: number; signal?: AbortSignal },
): InFlightGeneration {
  const progress: GenerationProgress = { ...meta, startedAtMs: performance.now(), tokens: 0, final: false };
  const origin = assertLoadTarget(baseUrl).origin;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const client = new Client(origin, { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const run = async (): Promise<GenerationProgress> => {
    try {
      const response = await client.request({ path: request.path, method: request.method, headers: request.headers ?? {}, body: request.body ?? null, signal });
      progress.status = response.statusCode;
      let text = "";
      for await (const chunk of response.body) {
        progress.firstByteAtMs ??= performance.now();
        text += (chunk as Buffer).toString("utf8");
        if (meta.stream) text = consumeEvents(text, progress);
      }
      if (!meta.stream) readWhole(text, progress);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      progress.error = options.signal?.aborted ? "aborted" : timeout.aborted ? "timeout" : classifyTransportError(error);
      if (typeof code === "string") progress.code = code;
    } finally {
      progress.endedAtMs = performance.now();
      await client.destroy().catch(() => undefined);
    }
    return progress;
  };
  return { progress, done: run() };
}

/** Complete = 200, every token, the final one marked, and no transport error. */
export function generationComplete(progress: GenerationProgress): boolean {
  return progress.error === undefined && progress.status === 200 && progress.tokens === progress.expectedTokens && progress.final;
}

/** "stream gen-1: 200, 40/40 tokens, final, 2014 ms" or "… 7/40 tokens, connection (ECONNRESET)". */
export function describeGeneration(progress: GenerationProgress): string {
  const took = progress.endedAtMs !== undefined ? `${Math.round(progress.endedAtMs - progress.startedAtMs)} ms` : "still running";
  const status = progress.status !== undefined ? `${progress.status}, ` : "";
  const ending = progress.error ? `${progress.error}${progress.code ? ` (${progress.code})` : ""}` : progress.final ? "final" : "no final token";
  return `${progress.stream ? "stream" : "unary"} ${progress.id}: ${status}${progress.tokens}/${progress.expectedTokens} tokens, ${ending}, ${took}`;
}

/** Counts the complete SSE events in `text`; returns the unfinished rest. */
function consumeEvents(text: string, progress: GenerationProgress): string {
  const events = text.split("\n\n");
  const rest = events.pop() ?? "";
  for (const event of events) {
    const data = event.split("\n").find((line) => line.startsWith("data:"));
    if (!data) continue;
    progress.tokens++;
    try {
      progress.final = (JSON.parse(data.slice(5)) as { final?: unknown }).final === true;
    } catch {
      progress.final = false;
    }
  }
  return rest;
}

function readWhole(text: string, progress: GenerationProgress): void {
  try {
    const output = (JSON.parse(text) as { text_output?: unknown }).text_output;
    if (typeof output !== "string") return;
    progress.tokens = output.split(" ").length;
    progress.final = progress.tokens === progress.expectedTokens;
  } catch {
    // Not a generate response (an error page): no tokens.
  }
}

export interface GenerationMix {
  /** Prefix of the request ids ("<prefix>-long", "<prefix>-unary-<i>"). */
  idPrefix: string;
  /** The long request: a token stream, or unary when the sidecar may buffer streams. */
  stream: boolean;
  longTokens: number;
  unaryRequests: number;
  unaryTokens: number;
  tokenIntervalMs: number;
}

/** Starts one long generation and a few unary ones at `entry`, all at once (drain checks keep them in flight). */
export function startGenerationMix(
  context: ConformanceContext,
  entry: string,
  mix: GenerationMix,
  options: { timeoutMs: number; signal?: AbortSignal },
): InFlightGeneration[] {
  const start = (id: string, stream: boolean, tokens: number) =>
    startGeneration(entry, generateRequest(context, { tokens, tokenIntervalMs: mix.tokenIntervalMs, stream, id }), { id, stream, expectedTokens: tokens }, options);
  return [
    start(`${mix.idPrefix}-long`, mix.stream, mix.longTokens),
    ...Array.from({ length: mix.unaryRequests }, (_, i) => start(`${mix.idPrefix}-unary-${i}`, false, mix.unaryTokens)),
  ];
}
