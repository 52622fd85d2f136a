// A KServe v2 gRPC client for load: ONE HTTP/2 channel per target (as a gRPC client in
// production keeps; requests are streams multiplexed on it), unary ModelInfer with a deadline,
// and each call's fate as a value — the gRPC status, or why none arrived — with its timings,
// in the shape an open loop settles (compare http-exchange.ts's ExchangeResult).
import { performance } from "node:perf_hooks";
import { Client, credentials, Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { assertLoadTarget } from "../target-guard.ts";
import { inferenceMethod } from "./inference-service.ts";
import type { GrpcInferRequestSpec } from "./grpc-infer-request.ts";

/** Triton's and tritonclient's message limit (INT32_MAX): gRPC's 4 MiB default would refuse large tensors. */
const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

export interface GrpcInferOk {
  ok: true;
  /** The gRPC status: always OK here. */
  code: 0;
  /** The serialized ModelInferResponse, read in full (parseGrpcInferResponse decodes it). */
  body: Buffer;
  /** Handed to grpc-js → response complete (status received). */
  durationMs: number;
  /** Handed to grpc-js → response headers received; NaN if none came. */
  headersMs: number;
}

export interface GrpcInferError {
  ok: false;
  /**
   * For error counts, as load-errors.ts's kinds: "timeout" (the deadline passed), "connection"
   * (no HTTP/2 stream could be used: refused, reset, closed), "aborted" (the caller's signal),
   * or "grpc:<STATUS>" for a status the server sent (grpc:NOT_FOUND, grpc:INVALID_ARGUMENT, ...).
   */
  kind: string;
  /** The gRPC status code (grpc-js's: 4 DEADLINE_EXCEEDED, 14 UNAVAILABLE, ...). */
  code: number;
  /** The status message (the server's error text, or grpc-js's reason). */
  message: string;
  durationMs: number;
  headersMs: number;
}

export type GrpcInferResult = GrpcInferOk | GrpcInferError;

export interface GrpcInferOptions {
  /** The call's deadline, from the moment it is handed to grpc-js. */
  timeoutMs: number;
  /** Cancels the call (counted "aborted"). */
  signal?: AbortSignal;
}

export interface GrpcClientOptions {
  /** Required to target anything but loopback or this run's pods (target-guard.ts). */
  allowRemote?: boolean;
  /** Extra grpc-js channel options. */
  channelOptions?: Record<string, string | number>;
}

/** "grpc:NOT_FOUND" for 5, and so on. */
export function statusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? String(code);
}

/**
 * One client per target: `target` is the origin a pod reports (http://127.0.0.1:8001) or host:port.
 * close() when done: the channel holds its connection open.
 */
export class GrpcInferClient {
  readonly target: string;
  private readonly client: Client;
  private readonly path = inferenceMethod("ModelInfer").path;

  constructor(target: string, options: GrpcClientOptions = {}) {
    const url = assertLoadTarget(target.includes("://") ? target : `http://${target}`, options.allowRemote);
    if (url.protocol !== "http:") throw new Error(`gRPC target ${target}: only plaintext (http:) targets are supported, not ${url.protocol}`);
    this.target = url.host;
    this.client = new Client(this.target, credentials.createInsecure(), {
      // Its own connection: clients of other targets (or arms) never share one.
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
      ...options.channelOptions,
    });
  }

  /** Opens the channel's connection ahead of the first call, so no measured call pays for it. */
  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (error) => {
        if (error) reject(new Error(`gRPC target ${this.target}: not connected within ${timeoutMs} ms (${error.message})`));
        else resolve();
      });
    });
  }

  /** One unary ModelInfer with `request`'s pre-serialized body; never throws. */
  infer(request: GrpcInferRequestSpec, options: GrpcInferOptions): Promise<GrpcInferResult> {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(request.metadata)) metadata.set(key, value);
    const startedMs = performance.now();
    let headersMs = Number.NaN;
    return new Promise((resolve) => {
      const call = this.client.makeUnaryRequest<Buffer, Buffer>(
        this.path,
        identity,
        identity, // the body is read in full and kept as bytes: decoding is the caller's choice
        request.body,
        metadata,
        { deadline: Date.now() + options.timeoutMs },
        (error, body) => {
          options.signal?.removeEventListener("abort", cancel);
          const durationMs = performance.now() - startedMs;
          if (!error && body) {
            resolve({ ok: true, code: 0, body, durationMs, headersMs });
            return;
          }
          const failure = error ?? ({ code: GrpcStatus.INTERNAL, details: "no response message" } as ServiceError);
          // A status the server (or a proxy) sent comes with response headers, at least its
          // content-type (a trailers-only answer has no separate headers event); grpc-js's own has none.
          const fromServer = !Number.isNaN(headersMs) || (failure.metadata !== undefined && Object.keys(failure.metadata.getMap()).length > 0);
          resolve({ ok: false, kind: errorKind(failure.code, options.signal, fromServer), code: failure.code, message: failure.details, durationMs, headersMs });
        },
      );
      call.on("metadata", () => {
        headersMs = performance.now() - startedMs;
      });
      const cancel = () => call.cancel();
      if (options.signal?.aborted) call.cancel();
      else options.signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}

function identity(value: Buffer): Buffer {
  return value;
}

function errorKind(code: number, signal: AbortSignal | undefined, fromServer: boolean): string {
  if (code === GrpcStatus.CANCELLED && signal?.aborted) return "aborted";
  if (code === GrpcStatus.DEADLINE_EXCEEDED) return "timeout";
  // grpc-js's own UNAVAILABLE is the transport's (refused, reset, GOAWAY); a server's or a
  // proxy's (models still loading, upstream down) is a status like any other.
  if (code === GrpcStatus.UNAVAILABLE && !fromServer) return "connection";
  return `grpc:${statusName(code)}`;
}
