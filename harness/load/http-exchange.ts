// One HTTP request and everything that came back — status, headers and the exact body
// bytes — or the transport error, as a value: conformance checks compare exchanges
// and must report a reset connection as evidence, not crash on it.
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { Agent, request, type Dispatcher } from "undici";
import { assertLoadTarget } from "./target-guard.ts";
import { classifyTransportError } from "./load-errors.ts";
import { createHash } from "node:crypto";

export interface ExchangeRequest {
  method: "GET" | "POST";
  path: string;
  /** A header given as a list is sent as that many field lines. */
  headers?: Record<string, string | string[]>;
  body?: Buffer;
  /** Send the body chunked (Transfer-Encoding: chunked, no Content-Length), in pieces of CHUNK_BYTES. */
  chunked?: boolean;
}

/** Piece size of a chunked request body: large enough to be cheap, small enough that a 16 MiB body takes many chunks. */
const CHUNK_BYTES = 1024 * 1024;

async function* piecesOf(body: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < body.length; at += CHUNK_BYTES) yield body.subarray(at, at + CHUNK_BYTES);
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface ExchangeResponse {
  ok: true;
  status: number;
  /** Lower-case names, as undici gives them. */
  headers: ResponseHeaders;
  body: Buffer;
  durationMs: number;
}

export interface ExchangeError {
  ok: false;
  /** "timeout", "connection", "aborted" or "other:<code>" (see harness/load/load-errors.ts). */
  kind: string;
  code?: string;
  message: string;
  durationMs: number;
}

export type ExchangeResult = ExchangeResponse | ExchangeError;

export interface ExchangeOptions {
  /** Keep-alive pool the request goes through; create one per check (see withAgent). */
  dispatcher: Dispatcher;
  /** The check's signal (interruption); combined with timeoutMs. */
  signal: AbortSignal;
  timeoutMs: number;
}

export async function exchange(baseUrl: string, req: ExchangeRequest, options: ExchangeOptions): Promise<ExchangeResult> {
  const url = new URL(req.path, assertLoadTarget(baseUrl));
  const startedMs = performance.now();
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  try {
    const res = await request(url, {
      method: req.method,
      headers: req.headers ?? {},
      ...(req.body ? { body: req.chunked ? Readable.from(piecesOf(req.body), { objectMode: false }) : req.body } : {}),
      dispatcher: options.dispatcher,
      signal,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { ok: true, status: res.statusCode, headers: res.headers, body, durationMs: performance.now() - startedMs };
  } catch (error) {
    const durationMs = performance.now() - startedMs;
    const code = (error as { code?: unknown }).code;
    const kind = options.signal.aborted ? "aborted" : signal.aborted ? "timeout" : classifyTransportError(error);
    return {
      ok: false,
      kind,
      ...(typeof code === "string" ? { code } : {}),
      message: signal.aborted && !options.signal.aborted ? `no complete answer within ${options.timeoutMs} ms` : String((error as Error).message ?? error),
      durationMs,
    };
  }
}

/** A header's value as one string (repeated headers joined with ", ", as HTTP allows). */
export function headerText(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Short description for messages: "200, 236 bytes, application/json" or "connection error (ECONNRESET: …)". */
export function describeResult(result: ExchangeResult): string {
  if (!result.ok) return `${result.kind} error (${result.code ? `${result.code}: ` : ""}${result.message})`;
  const type = headerText(result.headers, "content-type");
  return `${result.status}, ${result.body.length} bytes${type ? `, ${type}` : ""}`;
}

/** JSON-friendly evidence of one exchange: status, headers, length, hash and the start of the body. */
export function resultEvidence(result: ExchangeResult, previewBytes = 160): Record<string, unknown> {
  if (!result.ok) return { error: result.kind, code: result.code, message: result.message, durationMs: round(result.durationMs) };
  return {
    status: result.status,
    headers: result.headers,
    bodyBytes: result.body.length,
    bodySha256: createHash("sha256").update(result.body).digest("hex"),
    bodyStart: printable(result.body.subarray(0, previewBytes)),
    durationMs: round(result.durationMs),
  };
}

function printable(bytes: Buffer): string {
  let text = "";
  for (const byte of bytes) text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".";
  return text;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Runs `fn` with a fresh keep-alive agent and closes it after, so no socket outlives the check. */
export async function withAgent<T>(fn: (agent: Agent) => Promise<T>, options: Agent.Options = {}): Promise<T> {
  const agent = new Agent({ keepAliveTimeout: 2_000, connections: 8, ...options });
  try {
    return await fn(agent);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
