// The messages between the harness and a load generator running elsewhere (the
// in-cluster generator pod): newline-delimited JSON over the generator's stdin/stdout.
// A round is exactly the options of runInterleavedOpenLoop (bodies in base64); the answer
// is exactly its results, histograms encoded as results.json stores them.
import { decodeHistogram, encodeHistogram } from "../../measure/histogram.ts";
import { decodeInferRequest } from "../grpc/grpc-infer-request.ts";
import type { InterleavedOpenLoopOptions, OpenLoopResult, OpenLoopSummary } from "../open-loop.ts";

/** Bumped on any change of the messages: a generator image of another version is refused. */
export const REMOTE_PROTOCOL_VERSION = 3;

export type RoundOptions = Omit<InterleavedOpenLoopOptions, "signal" | "onProgress" | "onOutcome" | "allowRemote">;

interface WireTarget {
  url: string;
  request: {
    path: string;
    method: "GET" | "POST";
    headers: Record<string, string>;
    bodyBase64: string;
    tokenStream?: boolean;
    /** protocol grpc: the serialized ModelInfer (without it the far side would send the HTTP twin instead). */
    grpc?: { model: string; bodyBase64: string; metadata: Record<string, string> };
  };
}

export type HarnessMessage =
  | { type: "round"; id: number; options: Omit<RoundOptions, "targets"> & { targets: WireTarget[] } }
  | { type: "abort"; id: number };

interface WireResult {
  summary: OpenLoopSummary;
  histograms: { latency: string; serviceTime: string; pacingError: string; clientQueue: string; stream?: { ttft: string; ttftService: string; itl: string } };
}

export type GeneratorMessage =
  | { type: "hello"; protocol: number; node: string; pid: number }
  | { type: "result"; id: number; results: WireResult[] }
  | { type: "error"; id: number | null; message: string };

export function roundMessage(id: number, options: RoundOptions): HarnessMessage {
  return {
    type: "round",
    id,
    options: {
      ...options,
      targets: options.targets.map(({ url, request }) => ({
        url,
        request: {
          path: request.path,
          method: request.method,
          headers: request.headers,
          bodyBase64: request.body.toString("base64"),
          ...(request.tokenStream ? { tokenStream: true } : {}),
          ...(request.grpc ? { grpc: { model: request.grpc.model, bodyBase64: request.grpc.body.toString("base64"), metadata: request.grpc.metadata } } : {}),
        },
      })),
    },
  };
}

export function roundOptionsOf(message: Extract<HarnessMessage, { type: "round" }>): RoundOptions {
  return {
    ...message.options,
    targets: message.options.targets.map(({ url, request }) => ({
      url,
      request: {
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: Buffer.from(request.bodyBase64, "base64"),
        ...(request.tokenStream ? { tokenStream: true } : {}),
        ...(request.grpc ? { grpc: grpcRequestOf(request.grpc) } : {}),
      },
    })),
  };
}

function grpcRequestOf(wire: NonNullable<WireTarget["request"]["grpc"]>) {
  const body = Buffer.from(wire.bodyBase64, "base64");
  return { model: wire.model, body, metadata: wire.metadata, message: decodeInferRequest(body) };
}

export function resultMessage(id: number, results: OpenLoopResult[]): GeneratorMessage {
  return {
    type: "result",
    id,
    results: results.map(({ summary, histograms }) => ({
      summary,
      histograms: {
        latency: encodeHistogram(histograms.latency),
        serviceTime: encodeHistogram(histograms.serviceTime),
        pacingError: encodeHistogram(histograms.pacingError),
        clientQueue: encodeHistogram(histograms.clientQueue),
        ...(histograms.stream
          ? { stream: { ttft: encodeHistogram(histograms.stream.ttft), ttftService: encodeHistogram(histograms.stream.ttftService), itl: encodeHistogram(histograms.stream.itl) } }
          : {}),
      },
    })),
  };
}

export function resultsOf(message: Extract<GeneratorMessage, { type: "result" }>): OpenLoopResult[] {
  return message.results.map(({ summary, histograms }) => ({
    summary: nullsToNaN(summary),
    histograms: {
      latency: decodeHistogram(histograms.latency),
      serviceTime: decodeHistogram(histograms.serviceTime),
      pacingError: decodeHistogram(histograms.pacingError),
      clientQueue: decodeHistogram(histograms.clientQueue),
      ...(histograms.stream
        ? { stream: { ttft: decodeHistogram(histograms.stream.ttft), ttftService: decodeHistogram(histograms.stream.ttftService), itl: decodeHistogram(histograms.stream.itl) } }
        : {}),
    },
  }));
}

/**
 * JSON has no NaN: a summary's figures of nothing (percentiles of a target without one ok
 * response, pacing of a round that sent nothing) arrive as null. A summary holds no null
 * of its own, so each is NaN again, as the harness's own open loop reports it (a null
 * would pass for 0 in arithmetic).
 */
function nullsToNaN<T>(value: T): T {
  if (value === null) return Number.NaN as T;
  if (typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(nullsToNaN) as T;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, nullsToNaN(entry)])) as T;
}

/** Splits a byte stream into lines, across chunk boundaries. */
export class LineSplitter {
  private pending = "";
  push(chunk: string): string[] {
    this.pending += chunk;
    const lines = this.pending.split("\n");
    this.pending = lines.pop() ?? "";
    return lines.filter((line) => line.trim() !== "");
  }
}
