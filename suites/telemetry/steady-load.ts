// A steady load on the primary, directly, through the phases of an outage check, with the
// sidecar's memory sampled beside it: each request and each sample is tagged with the phase
// it began in, so latency and memory before, during and after compare on the same footing.
import { performance } from "node:perf_hooks";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { pause } from "../support/bounded-wait.ts";
import { Client } from "undici";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import type { TimedOutcome, TimedRequestSpec } from "../support/timed-request.ts";
import { mixedRequest, type SentRequest } from "./role-traffic.ts";

export type Phase = "warm-up" | "before" | "down" | "after" | "done";

export interface PhasedRequest extends SentRequest {
  phase: Phase;
}

export interface PhasedSample {
  phase: Phase;
  /** ms since the load began. */
  atMs: number;
  mib: number;
}

export interface SteadyLoad {
  /** Moves every later request and sample into `phase`; "done" ends both loops. */
  enter(phase: Phase): void;
  /** Resolves when both loops have ended (after enter("done")). */
  finished: Promise<{ requests: PhasedRequest[]; memory: PhasedSample[]; memorySource: string }>;
}

const MIB = 1024 * 1024;

export function startSteadyLoad(
  context: ConformanceContext,
  pod: StartedPod,
  options: { baseUrl: string; container: string; gapMs: number; memorySampleMs: number; maxDurationMs: number; firstIndex?: number },
): SteadyLoad {
  let phase = "warm-up" as Phase;
  const began = performance.now();
  const deadline = began + options.maxDurationMs;
  const requests: PhasedRequest[] = [];
  const memory: PhasedSample[] = [];
  let memorySource = "none";
  // One kept-alive connection: the latency measured is the primary's, not connection set-up's.
  const origin = assertLoadTarget(options.baseUrl).origin;
  const timeoutMs = context.config.requestTimeoutMs;
  const client = new Client(origin, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs });
  const load = (async () => {
    try {
      for (let index = options.firstIndex ?? 0; phase !== "done" && performance.now() < deadline; index++) {
        const next = performance.now() + options.gapMs;
        const tagged = phase;
        const { spec, expectStatus } = mixedRequest(context, index);
        const startedAtEpochMs = Date.now();
        const outcome = await keptAliveRequest(client, spec, AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]));
        requests.push({ ...outcome, index, expectStatus, startedAtEpochMs, phase: tagged });
        const waitMs = next - performance.now();
        if (waitMs > 0) await pause(waitMs, context.signal);
      }
    } finally {
      await client.close().catch(() => undefined);
    }
  })();
  const sampling = (async () => {
    while (phase !== "done" && performance.now() < deadline) {
      const tagged = phase;
      try {
        const stats = await pod.stats(options.container);
        memorySource = stats.source;
        memory.push({ phase: tagged, atMs: performance.now() - began, mib: stats.memoryBytes / MIB });
      } catch {
        // A container between states has no figures for this instant.
      }
      await pause(options.memorySampleMs, context.signal);
    }
  })();
  return {
    enter(next) {
      phase = next;
    },
    finished: Promise.all([load, sampling]).then(() => ({ requests, memory, memorySource })),
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The memory figures of an outage: the median before it, the highest during it, the growth between. */
export function outageMemory(samples: readonly PhasedSample[]): { baselineMiB: number; peakMiB: number; growthMiB: number; samplesBefore: number; samplesDown: number } {
  const before = samples.filter((s) => s.phase === "before").map((s) => s.mib);
  const down = samples.filter((s) => s.phase === "down").map((s) => s.mib);
  const baselineMiB = median(before);
  const peakMiB = down.length > 0 ? Math.max(...down) : Number.NaN;
  return { baselineMiB, peakMiB, growthMiB: peakMiB - baselineMiB, samplesBefore: before.length, samplesDown: down.length };
}

/**
 * The primary's median latency (answered requests) while the backend was down, against its
 * median over the windows just before and just after the outage pooled — a baseline that
 * brackets the outage, so a slow drift of the machine's load does not read as the outage's doing.
 */
export function outageLatency(requests: readonly PhasedRequest[]): { baselineMs: number; downMs: number; ratio: number; answeredBaseline: number; answeredDown: number } {
  const answered = (phases: Phase[]) => requests.filter((r) => phases.includes(r.phase) && r.status !== undefined).map((r) => r.durationMs);
  const baseline = answered(["before", "after"]);
  const down = answered(["down"]);
  const baselineMs = median(baseline);
  const downMs = median(down);
  return { baselineMs, downMs, ratio: downMs / baselineMs, answeredBaseline: baseline.length, answeredDown: down.length };
}

async function keptAliveRequest(client: Client, spec: TimedRequestSpec, signal: AbortSignal): Promise<TimedOutcome> {
  const startedAtMs = performance.now();
  const settle = (fields: Partial<TimedOutcome>): TimedOutcome => {
    const endedAtMs = performance.now();
    return { startedAtMs, endedAtMs, durationMs: endedAtMs - startedAtMs, ...fields };
  };
  try {
    const response = await client.request({ path: spec.path, method: spec.method, headers: spec.headers ?? {}, ...(spec.body !== undefined ? { body: spec.body } : {}), signal });
    const body = Buffer.from(await response.body.arrayBuffer());
    return settle({ status: response.statusCode, body });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return settle({ error: signal.aborted ? "timeout" : "connection", ...(typeof code === "string" ? { code } : {}) });
  }
}
