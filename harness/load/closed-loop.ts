// Closed-loop load for capacity (DESIGN.md, measuring rule 2): N keep-alive connections,
// each sending its next request as soon as the previous one is answered, and a
// microsecond histogram of each exchange (request written → response complete).
//
// The loop itself is native (native/closed-loop, Rust on epoll, built by `npm run setup`):
// one child process per trial, the request on its stdin, one JSON answer on its stdout.
// History, measured on this project's 2-core machines (bench/loadgen-vs-wrk.ts): autocannon
// cost ~1.5–2.3× wrk's CPU per request; a lean Node engine (one prebuilt request, answers
// scanned in place by http1-response-parser.ts) reached ≈ 0.85× wrk's CPU efficiency and
// no further — a bare Node client that only writes and counts reads already equals wrk, and
// the JS work per answer (parse, clock, tally, stream glue) was the remaining ~20 %. The
// native engine keeps the Node engine's rules (what counts as ok, timeout, connection error,
// when a trial ends) and its parser's framing: src/parser.rs is a port, checked against
// http1-response-parser.ts byte for byte by native-closed-loop.test.ts.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createLatencyHistogram, summarize, type LatencyHistogram, type PercentilesUs } from "../measure/histogram.ts";
import { PROJECT_ROOT } from "../project-root.ts";
import type { HttpRequestSpec } from "./kserve-request.ts";
import type { ErrorCounts } from "./load-errors.ts";
import { assertLoadTarget } from "./target-guard.ts";

export interface ClosedLoopOptions {
  /** Base URL (origin) of the target, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Built once and sent unchanged; omitted → GET /. */
  request?: HttpRequestSpec;
  connections: number;
  durationMs: number;
  /** Hard cap on requests over all connections; must be ≥ connections. */
  maxRequests: number;
  /** A request unanswered this long counts as "timeout" and its connection is replaced. */
  timeoutMs: number;
  allowRemote?: boolean;
  /** Aborting stops the run at once (requests in flight are not counted). */
  signal?: AbortSignal;
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

/** The engine, as `npm run setup` builds it (scripts/setup.mjs ensureNativeClosedLoop). */
export const NATIVE_CLOSED_LOOP_PATH = join(PROJECT_ROOT, "native", "closed-loop", "target", "release", "sidecar-bench-closed-loop");
/** What a run's environment says generated its closed-loop load. */
export const CLOSED_LOOP_DESCRIPTION = "sidecar-bench closed loop (native epoll engine, native/closed-loop), a child process of the harness";
/** Beyond its duration and one request timeout, the time an engine gets to answer before it is killed (a bound, not a wait). */
const ENGINE_MARGIN_MS = 5_000;

function validate(o: ClosedLoopOptions): void {
  for (const [name, value] of [["connections", o.connections], ["maxRequests", o.maxRequests]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`closed loop: ${name} must be an integer ≥ 1, got ${value}`);
  }
  for (const [name, value] of [["durationMs", o.durationMs], ["timeoutMs", o.timeoutMs]] as const) {
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`closed loop: ${name} must be a positive number, got ${value}`);
  }
  // Kept from the autocannon days: each connection must be able to send at least one request.
  if (o.maxRequests < o.connections) {
    throw new Error(`closed loop: maxRequests (${o.maxRequests}) must be ≥ connections (${o.connections})`);
  }
}

/** The request's bytes, built once: request line, Host, the spec's headers, Content-Length, body. */
export function requestBytes(target: URL, request: HttpRequestSpec | undefined): Buffer {
  const method = request?.method ?? "GET";
  const path = request?.path ?? "/";
  const body = request?.body ?? Buffer.alloc(0);
  const headers = Object.entries(request?.headers ?? {});
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`closed loop: request header ${JSON.stringify(name)} holds a line break`);
  }
  const has = (name: string): boolean => headers.some(([n]) => n.toLowerCase() === name);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (!has("host")) head += `Host: ${target.host}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  if (!has("content-length") && (body.length > 0 || method === "POST")) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** What the engine writes on stdout (native/closed-loop/src/engine.rs, Outcome::to_json). */
interface EngineOutcome {
  startedAtUnixMs: number;
  durationMs: number;
  requests: number;
  ok: number;
  errors: ErrorCounts;
  /** [whole microseconds, count] pairs of the 2xx answers. */
  latencyUs: Array<[number, number]>;
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  validate(options);
  const target = assertLoadTarget(options.url, options.allowRemote ?? false);
  if (target.protocol !== "http:") throw new Error(`closed loop: only http: targets are supported, got ${target.href}`);
  if (!existsSync(NATIVE_CLOSED_LOOP_PATH)) {
    throw new Error(`closed loop: its engine ${NATIVE_CLOSED_LOOP_PATH} is not built; run \`npm run setup\` (it builds native/closed-loop with cargo)`);
  }
  const bytes = requestBytes(target, options.request);
  const host = target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname;
  const outcome = await runEngine(
    [
      "run",
      ...["--host", host, "--port", String(Number(target.port || 80))],
      ...["--connections", String(options.connections), "--duration-ms", String(Math.ceil(options.durationMs))],
      ...["--max-requests", String(options.maxRequests), "--timeout-ms", String(Math.ceil(options.timeoutMs))],
      ...["--request-bytes", String(bytes.length)],
    ],
    bytes,
    options.durationMs + options.timeoutMs + ENGINE_MARGIN_MS,
    options.signal,
  );
  const latency = createLatencyHistogram();
  for (const [us, count] of outcome.latencyUs) latency.recordValueWithCount(Math.min(us, latency.highestTrackableValue), count);
  const { requests, ok, durationMs } = outcome;
  const summary: ClosedLoopSummary = {
    kind: "closed-loop",
    startedAt: new Date(outcome.startedAtUnixMs).toISOString(),
    durationMs,
    connections: options.connections,
    requests,
    ok,
    throughputPerSec: durationMs > 0 ? (requests / durationMs) * 1000 : 0,
    okPerSec: durationMs > 0 ? (ok / durationMs) * 1000 : 0,
    errors: outcome.errors,
    non2xx: requests - ok,
    latencyUs: summarize(latency),
  };
  return { summary, latency };
}

/**
 * Runs the engine with `input` on its stdin (kept open: a byte more, or its end, stops the
 * engine — the signal's abort sends one, and a harness that dies closes it) and parses its
 * answer. Killed, and the trial rejected, if it has not answered within `boundMs`.
 */
async function runEngine(args: string[], input: Buffer, boundMs: number, signal: AbortSignal | undefined): Promise<EngineOutcome> {
  const engine = spawn(NATIVE_CLOSED_LOOP_PATH, args, { stdio: ["pipe", "pipe", "pipe"] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  engine.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  engine.stderr.on("data", (chunk: Buffer) => stderr.length < 64 && stderr.push(chunk));
  // The engine may exit (or be killed) before it has read all of its input: not an error here.
  engine.stdin.on("error", () => undefined);
  engine.stdin.write(input);
  const stop = (): void => {
    if (engine.stdin.writable) engine.stdin.end("stop");
  };
  signal?.addEventListener("abort", stop, { once: true });
  if (signal?.aborted) stop();
  let killedForBound = false;
  const timer = setTimeout(() => {
    killedForBound = true;
    engine.kill("SIGKILL");
  }, boundMs);
  try {
    const [code, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      engine.once("error", (error) => reject(new Error(`closed loop: its engine could not start: ${error.message}`)));
      engine.once("close", (c, s) => resolve([c, s]));
    });
    if (killedForBound) throw new Error(`closed loop: the engine did not finish within ${Math.round(boundMs)} ms (its duration + request timeout + margin) and was killed`);
    const text = Buffer.concat(stdout).toString("utf8");
    if (code !== 0) {
      const said = Buffer.concat(stderr).toString("utf8").trim().slice(0, 2000);
      throw new Error(`closed loop: the engine exited with ${exitSignal ?? `code ${code}`}${said ? `: ${said}` : ""}`);
    }
    try {
      return JSON.parse(text) as EngineOutcome;
    } catch {
      throw new Error(`closed loop: the engine's answer is not the JSON it writes: ${JSON.stringify(text.slice(0, 200))}`);
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
    if (engine.stdin.writable) engine.stdin.end();
  }
}
