// One generate_stream answer, timed token by token. The SSE body is fed chunk by chunk
// with the time each chunk arrived; every `data:` event carrying `text_output` is one
// token (one response of the model: Triton's generate extension sends each response as
// one event). An `error` object in the stream, a body that is not JSON events, or a
// stream that ends without a token makes the request an error with its reason, even
// under a 200 status (the status is sent before the first token).
import { SseParser, type SseEvent } from "./sse-parser.ts";

export interface TokenTiming {
  tokens: number;
  /** Arrival time (caller's clock, ms) of the first token's chunk. */
  firstTokenAtMs: number;
  lastTokenAtMs: number;
  /** Arrival gaps between consecutive tokens, ms: tokens − 1 of them. */
  gapsMs: number[];
}

export type TokenStreamOutcome = { ok: true; timing: TokenTiming } | { ok: false; error: string };

/** Error kinds (ErrorCounts keys) of a stream that answered 2xx but failed. */
export const STREAM_NO_TOKENS = "stream-no-tokens";
export const STREAM_MALFORMED = "stream-malformed";
export const STREAM_ERROR_PREFIX = "stream-error: ";
/** Reasons are cut so a varying message cannot make ErrorCounts grow without bound. */
const MAX_REASON_CHARS = 80;

function reason(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim() || "(no message)";
  return `${STREAM_ERROR_PREFIX}${oneLine.length > MAX_REASON_CHARS ? `${oneLine.slice(0, MAX_REASON_CHARS)}…` : oneLine}`;
}

export class TokenStreamRecorder {
  private readonly parser = new SseParser();
  private tokens = 0;
  private firstTokenAtMs = Number.NaN;
  private lastTokenAtMs = Number.NaN;
  private readonly gapsMs: number[] = [];
  private error: string | null = null;

  /** One body chunk and when it arrived. After an error the rest of the body is ignored. */
  push(chunk: Uint8Array | string, atMs: number): void {
    if (this.error !== null) return;
    let events: SseEvent[];
    try {
      events = this.parser.push(chunk);
    } catch {
      this.error = STREAM_MALFORMED;
      return;
    }
    for (const event of events) {
      this.event(event, atMs);
      if (this.error !== null) return;
    }
  }

  /** The body ended. */
  finish(): TokenStreamOutcome {
    this.parser.end();
    if (this.error !== null) return { ok: false, error: this.error };
    if (this.tokens === 0) return { ok: false, error: STREAM_NO_TOKENS };
    return {
      ok: true,
      timing: { tokens: this.tokens, firstTokenAtMs: this.firstTokenAtMs, lastTokenAtMs: this.lastTokenAtMs, gapsMs: this.gapsMs },
    };
  }

  private event(event: SseEvent, atMs: number): void {
    if (event.type === "error") {
      this.error = reason(event.data);
      return;
    }
    if (event.data === "[DONE]") return; // OpenAI-style end marker, harmless if a server adds it
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      this.error = STREAM_MALFORMED;
      return;
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      this.error = STREAM_MALFORMED;
      return;
    }
    const record = json as Record<string, unknown>;
    if (record["error"] !== undefined) {
      this.error = reason(typeof record["error"] === "string" ? record["error"] : JSON.stringify(record["error"]));
      return;
    }
    if (!hasText(record["text_output"])) return; // e.g. a final marker without text: no token
    if (this.tokens === 0) this.firstTokenAtMs = atMs;
    else this.gapsMs.push(atMs - this.lastTokenAtMs);
    this.lastTokenAtMs = atMs;
    this.tokens++;
  }
}

/** A string, or Triton's rendering of a BYTES tensor as a list of strings; empty text is no token. */
function hasText(value: unknown): boolean {
  if (typeof value === "string") return value.length > 0;
  return Array.isArray(value) && value.some((item) => typeof item === "string" && item.length > 0);
}

export interface StreamRequestMetrics {
  /** Scheduled send → first token: what a user waits, client queueing included (like latency). */
  ttftMs: number;
  /** Socket write → first token: the pod's part (like service time). */
  ttftServiceMs: number;
  itlMs: number[];
  /** Scheduled send → body end. */
  endToEndMs: number;
  tokens: number;
  /** (tokens − 1) / (last − first token): the stream's decode rate, TTFT excluded; NaN for one token. */
  decodeTokensPerSec: number;
}

/** One request's figures from its token timing and its own timestamps (all in one clock, ms). */
export function streamRequestMetrics(timing: TokenTiming, at: { scheduledMs: number; writtenMs: number; endMs: number }): StreamRequestMetrics {
  const spanMs = timing.lastTokenAtMs - timing.firstTokenAtMs;
  return {
    ttftMs: timing.firstTokenAtMs - at.scheduledMs,
    ttftServiceMs: timing.firstTokenAtMs - at.writtenMs,
    itlMs: timing.gapsMs,
    endToEndMs: at.endMs - at.scheduledMs,
    tokens: timing.tokens,
    decodeTokensPerSec: timing.tokens > 1 && spanMs > 0 ? ((timing.tokens - 1) / spanMs) * 1000 : Number.NaN,
  };
}
