// resources.cpu-per-1k-rps: vCPU the sidecar spends per 1000 requests per second, as
// Istio publishes its sidecar's cost, within the manifest's budgets.cpuPer1kRps. Open-loop
// load at a fixed rate (constant arrivals) through the pod's entry; the sidecar
// container's CPU time over the measured window (ResourceSampler: cgroup, or /proc)
// divided by the requests answered in it.
import { runOpenLoop } from "../../harness/load/open-loop.ts";
import { ResourceSampler, vcpuPer1kRps } from "../../harness/measure/resource-sampler.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundTo } from "../support/memory-series.ts";
import { inferRequest } from "../support/reference-requests.ts";
import { loadEvidence } from "../support/load-evidence.ts";

/** Well below the capacity of any sane proxy on 2 cores, high enough that per-request CPU dominates idle CPU. */
const RATE_PER_SEC = 200;
const WARM_UP_MS = 1_000;
const MEASURE_MS = 5_000;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_CONNECTIONS = 8;
/** Below this share of answered requests the figure would describe a failing sidecar, not its cost. */
const MIN_OK_SHARE = 0.95;

export const cpuPer1kRps: ConformanceTest = {
  id: "resources.cpu-per-1k-rps",
  description: `The sidecar's vCPU per 1000 req/s, measured at ${RATE_PER_SEC} req/s of open-loop KServe infer requests for ${MEASURE_MS} ms, is within budgets.cpuPer1kRps.`,
  profile: "resources",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/cpu-burner.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 measured window of open-loop load"),
  async run(context): Promise<CheckOutcome> {
    const budget = context.sidecar.manifest.spec.budgets?.cpuPer1kRps;
    if (budget === undefined) return { verdict: "skipped", message: "the manifest declares no budgets.cpuPer1kRps" };
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    const load = (durationMs: number, seed: number) =>
      runOpenLoop({
        url: context.entryUrl(pod),
        request: inferRequest(context),
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
    const sampler = new ResourceSampler(pod, [sidecar], 250);
    await sampler.start();
    const { summary } = await load(MEASURE_MS, 2);
    const [usage] = await sampler.stop();
    if (!usage || usage.samples < 2) throw new Error(`no CPU samples of "${sidecar}" during the load`);
    // Requests answered per second over the sampler's own window, so CPU and work share one window.
    const okRatePerSec = usage.windowMs > 0 ? (summary.ok / usage.windowMs) * 1000 : 0;
    const perK = vcpuPer1kRps(usage, okRatePerSec);
    const evidence = {
      budgetVcpuPer1kRps: budget,
      vcpuPer1kRps: roundTo(perK, 4),
      cpuSeconds: roundTo(usage.cpuSeconds, 4),
      vcpu: roundTo(usage.vcpu, 4),
      windowMs: Math.round(usage.windowMs),
      source: usage.source,
      throttledPeriods: usage.throttledPeriods,
      load: loadEvidence(summary),
      sidecarLog: logTail(pod, sidecar, 10),
    };
    const shortfall =
      summary.ok < summary.scheduled * MIN_OK_SHARE
        ? `only ${summary.ok} of ${summary.scheduled} requests were answered with 2xx (errors ${JSON.stringify(summary.errors)})`
        : null;
    if (!(perK <= budget)) {
      return {
        verdict: "failed",
        message:
          `expected ≤ budgets.cpuPer1kRps ${budget} vCPU per 1000 req/s; measured ${roundTo(perK, 3)} (${roundTo(usage.cpuSeconds, 3)} CPU-s for ${summary.ok} ` +
          `requests at ${roundTo(summary.achievedRatePerSec, 1)} req/s, ${usage.source})${shortfall ? `, and ${shortfall}` : ""}`,
        evidence,
      };
    }
    if (shortfall) {
      return {
        verdict: "failed",
        message: `expected the sidecar to carry ${RATE_PER_SEC} req/s so that its CPU per request can be measured; ${shortfall}`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `${roundTo(perK, 3)} vCPU per 1000 req/s (${roundTo(usage.cpuSeconds, 3)} CPU-s for ${summary.ok} requests, ${usage.source}) within budgets.cpuPer1kRps ${budget}`,
      evidence,
    };
  },
};
