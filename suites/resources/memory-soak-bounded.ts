// resources.memory-soak-bounded: under a steady soak, the sidecar's memory does not keep
// growing. A sidecar that retains something per request (bodies, headers, metrics
// labels, traces) grows without bound and is OOM-killed in production hours later; a
// short soak at a fixed rate makes that growth visible as a trend.
//
// After a warm-up at the same load (buffers, pools and the heap reach their working
// size), memory is sampled every memorySampleMs (suite config); the verdict compares the
// mean of the last quarter of the window with the mean of the first, against the
// policy's resources.soakGrowthMiB. The least-squares slope is shown beside it.
import { runOpenLoop } from "../../harness/load/open-loop.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { loadEvidence } from "../support/load-evidence.ts";
import { quarterMeans, roundTo, sampleMemoryUntil, slopeMiBPerMin, thinSamples } from "../support/memory-series.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { inferRequestOfAbout } from "../support/reference-requests.ts";

export const BODY_BYTES = 16 * 1024;
const MAX_CONNECTIONS = 8;
/** Below this share of answered requests the soak did not load the sidecar as intended. */
const MIN_OK_SHARE = 0.9;

export const memorySoakBounded: ConformanceTest = {
  id: "resources.memory-soak-bounded",
  description:
    `Over a soak of open-loop ~${BODY_BYTES / 1024} KiB infer requests (the suite config's soakMs at loadRatePerSec, after soakWarmUpMs), the sidecar's ` +
    "memory grows by at most the policy's resources.soakGrowthMiB from the first to the last quarter of the window.",
  profile: "resources",
  level: "extended",
  features: [],
  faultyFixture: "reference/sidecars/leaky.yaml",
  timeoutMs: 90_000,
  detection: observationClaim("1 soak at a fixed rate, memory sampled through it"),
  async run(context): Promise<CheckOutcome> {
    const boundMiB = context.policy.resources.soakGrowthMiB;
    const { loadRatePerSec, soakWarmUpMs, soakMs, memorySampleMs, requestTimeoutMs } = context.config;
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    const request = inferRequestOfAbout(context, BODY_BYTES);
    const load = (durationMs: number, seed: number) =>
      runOpenLoop({
        url: context.entryUrl(pod),
        request,
        ratePerSec: loadRatePerSec,
        arrival: "constant",
        seed,
        durationMs,
        maxRequests: Math.ceil((loadRatePerSec * durationMs) / 1000) + 10,
        timeoutMs: requestTimeoutMs,
        maxConnections: MAX_CONNECTIONS,
        signal: context.signal,
      });
    await load(soakWarmUpMs, 1);
    const soak = load(soakMs, 2);
    const series = await sampleMemoryUntil(pod, sidecar, soak, {
      intervalMs: memorySampleMs,
      maxSamples: Math.ceil((soakMs + requestTimeoutMs) / memorySampleMs) + 10,
      signal: context.signal,
    });
    const { summary } = await soak;
    const { firstMiB, lastMiB } = quarterMeans(series.samples);
    const growthMiB = lastMiB - firstMiB;
    const slope = slopeMiBPerMin(series.samples);
    const evidence = {
      boundMiB,
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
    if (growthMiB > boundMiB) {
      return {
        verdict: "failed",
        message:
          `expected the sidecar's memory to grow by ≤ the policy's ${boundMiB} MiB over the soak; it grew ${roundTo(growthMiB, 1)} MiB ` +
          `(${roundTo(firstMiB, 1)} → ${roundTo(lastMiB, 1)} MiB, ${roundTo(slope, 1)} MiB/min, ${summary.ok} requests of ${request.body.length} bytes, ${series.source})`,
        evidence,
      };
    }
    if (summary.ok < summary.scheduled * MIN_OK_SHARE) {
      return {
        verdict: "failed",
        message: `expected the sidecar to carry the ${loadRatePerSec} req/s soak; only ${summary.ok} of ${summary.scheduled} requests were answered with 2xx (errors ${JSON.stringify(summary.errors)}), so its memory was not soaked`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `memory grew ${roundTo(growthMiB, 1)} MiB (${roundTo(firstMiB, 1)} → ${roundTo(lastMiB, 1)} MiB, ${roundTo(slope, 1)} MiB/min) over ${summary.ok} requests, within ${boundMiB} MiB`,
      evidence,
    };
  },
};
