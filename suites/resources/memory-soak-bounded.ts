// resources.memory-soak-bounded: under a steady soak, the sidecar's memory does not keep
// growing. A sidecar that retains something per request (bodies, headers, metrics
// labels, traces) grows without bound and is OOM-killed in production hours later; a
// short soak at a fixed rate makes that growth visible as a trend.
//
// After a warm-up at the same load (buffers, pools and the heap reach their working
// size), memory is sampled every SAMPLE_MS; the verdict compares the mean of the last
// quarter of the window with the mean of the first. The least-squares slope is shown
// beside it.
import { runOpenLoop } from "../../harness/load/open-loop.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { loadEvidence } from "../support/load-evidence.ts";
import { quarterMeans, roundTo, sampleMemoryUntil, slopeMiBPerMin, thinSamples } from "../support/memory-series.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { inferRequestOfAbout } from "../support/reference-requests.ts";

const RATE_PER_SEC = 200;
const BODY_BYTES = 16 * 1024;
const WARM_UP_MS = 3_000;
const SOAK_MS = 16_000;
const SAMPLE_MS = 250;
/**
 * Growth from the first to the last quarter. 12 s apart at 200 req/s is 2400 requests:
 * 16 MiB is ~7 KiB kept per request — well above allocator and GC noise, well below
 * what retaining even half of each 16 KiB body would add.
 */
export const GROWTH_BOUND_MIB = 16;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_CONNECTIONS = 8;
/** Below this share of answered requests the soak did not load the sidecar as intended. */
const MIN_OK_SHARE = 0.9;

export const memorySoakBounded: ConformanceTest = {
  id: "resources.memory-soak-bounded",
  description:
    `Over a ${SOAK_MS / 1000} s soak at ${RATE_PER_SEC} req/s with ~${BODY_BYTES / 1024} KiB infer bodies (after a ${WARM_UP_MS / 1000} s warm-up), the sidecar's ` +
    `memory grows by at most ${GROWTH_BOUND_MIB} MiB from the first to the last quarter of the window.`,
  profile: "resources",
  level: "extended",
  features: [],
  faultyFixture: "reference/sidecars/leaky.yaml",
  timeoutMs: 90_000,
  detection: observationClaim("1 soak at a fixed rate, memory sampled through it"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    const request = inferRequestOfAbout(context, BODY_BYTES);
    const load = (durationMs: number, seed: number) =>
      runOpenLoop({
        url: context.entryUrl(pod),
        request,
        ratePerSec: RATE_PER_SEC,
        arrival: "constant",
        seed,
        durationMs,
        maxRequests: Math.ceil((RATE_PER_SEC * durationMs) / 1000) + 10,
        timeoutMs: REQUEST_TIMEOUT_MS,
        maxConnections: MAX_CONNECTIONS,
        signal: context.signal,
      });
    await load(WARM_UP_MS, 1);
    const soak = load(SOAK_MS, 2);
    const series = await sampleMemoryUntil(pod, sidecar, soak, {
      intervalMs: SAMPLE_MS,
      maxSamples: Math.ceil((SOAK_MS + REQUEST_TIMEOUT_MS) / SAMPLE_MS) + 10,
      signal: context.signal,
    });
    const { summary } = await soak;
    const { firstMiB, lastMiB } = quarterMeans(series.samples);
    const growthMiB = lastMiB - firstMiB;
    const slope = slopeMiBPerMin(series.samples);
    const evidence = {
      growthBoundMiB: GROWTH_BOUND_MIB,
      growthMiB: roundTo(growthMiB, 2),
      firstQuarterMeanMiB: roundTo(firstMiB, 2),
      lastQuarterMeanMiB: roundTo(lastMiB, 2),
      slopeMiBPerMin: roundTo(slope, 2),
      source: series.source,
      requestBodyBytes: request.body.length,
      load: loadEvidence(summary),
      samplesMsMiB: thinSamples(series.samples),
      sidecarLog: logTail(pod, sidecar, 10),
    };
    if (series.samples.length < 8 || !Number.isFinite(growthMiB)) {
      throw new Error(`too few memory samples of "${sidecar}" during the soak (${series.samples.length})`);
    }
    if (growthMiB > GROWTH_BOUND_MIB) {
      return {
        verdict: "failed",
        message:
          `expected the sidecar's memory to grow by ≤ ${GROWTH_BOUND_MIB} MiB over the soak; it grew ${roundTo(growthMiB, 1)} MiB ` +
          `(${roundTo(firstMiB, 1)} → ${roundTo(lastMiB, 1)} MiB, ${roundTo(slope, 1)} MiB/min, ${summary.ok} requests of ${request.body.length} bytes, ${series.source})`,
        evidence,
      };
    }
    if (summary.ok < summary.scheduled * MIN_OK_SHARE) {
      return {
        verdict: "failed",
        message: `expected the sidecar to carry the ${RATE_PER_SEC} req/s soak; only ${summary.ok} of ${summary.scheduled} requests were answered with 2xx (errors ${JSON.stringify(summary.errors)}), so its memory was not soaked`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `memory grew ${roundTo(growthMiB, 1)} MiB (${roundTo(firstMiB, 1)} → ${roundTo(lastMiB, 1)} MiB, ${roundTo(slope, 1)} MiB/min) over ${summary.ok} requests, within ${GROWTH_BOUND_MIB} MiB`,
      evidence,
    };
  },
};
